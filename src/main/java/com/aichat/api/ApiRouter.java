package com.aichat.api;

import com.aichat.auth.TokenVerifier;
import com.aichat.contract.ErrorCode;
import com.aichat.limits.ClusterLimits;
import com.aichat.metrics.Metrics;
import com.aichat.metrics.MetricsSetup;
import com.aichat.ops.NodeLifecycle;
import com.aichat.ops.Readiness;
import com.aichat.persistence.Conversations;
import com.aichat.web.WebRoutes;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import java.time.Instant;
import java.util.Set;

/**
 * Builds the REST API router in one method, used by {@link HttpApiVerticle} and by tests alike.
 *
 * <p>Every {@code /chats} request passes, in order: the body handler (size limit →
 * 413), authentication (401), the per-user rate limit (429), the subscription check (402); then its
 * resource handler. {@code GET /health}, {@code /health/live}, {@code /health/ready} and
 * {@code GET /openapi.yaml} are public; {@code GET /metrics} is served here only while the API listens
 * on loopback or {@code metrics.token} guards it (and unless {@code metrics.enabled} is false or
 * {@code metrics.port} moves it to the management port). {@code POST /dev/token} (dev secret only) is
 * limited per remote address ({@code auth.dev_tokens_per_minute}). While the node drains, sends are refused with 503
 * {@code DRAINING}.
 * {@code POST /internal/chat-ai-worker} ({@link CloudTasksWorkerHandler}) has its own OIDC check.
 */
public final class ApiRouter {

  /** Bus timeout of the health probe; a healthy store answers far sooner. */
  static final long HEALTH_TIMEOUT_MS = 3_000;

  private ApiRouter() {}

  /**
   * The router; {@code clusterLimits} (null: count on this node only) makes the rate limit
   * cluster-wide.
   */
  public static Router create(Vertx vertx, ApiSettings cfg, TokenVerifier verifier, Conversations store,
      Conversations healthStore, Buffer openApi, ClusterLimits clusterLimits) {
    Router router = Router.router(vertx);
    ApiErrors errors = new ApiErrors(cfg.http().maxBodyBytes(), Metrics.of(vertx));
    AccessPolicy policy = new AccessPolicy(
        cfg.subscription(), store, RateLimiter.shared(vertx, cfg.http().requestsPerMinute()), clusterLimits);
    SessionHandlers sessions = new SessionHandlers(store, cfg.node().publicBaseUrl());
    MessageHandlers messages = new MessageHandlers(vertx, store, policy, new OverloadGuard(vertx, cfg.dispatch()),
        !cfg.dispatch().cloudTasks());
    HistoryHandlers history = new HistoryHandlers(vertx, store, cfg.history());

    router.route().handler(ProtocolGuard.requestShape());
    if (!cfg.http().corsOrigins().isEmpty()) {
      router.route().handler(cors(cfg));
    }
    router.get("/health").handler(ctx -> health(ctx, healthStore));
    router.get("/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("status", "ok")));
    Readiness readiness = new Readiness(vertx, cfg.deployment(), cfg.providers(), healthStore);
    router.get("/health/ready").handler(ctx -> readiness.check()
        .onSuccess(report -> Responses.json(ctx, report.getString("status").equals("ready") ? 200 : 503, report)));
    if (cfg.metrics().servedOnApiPort(cfg.http().host())) {
      router.get(MetricsSetup.PATH).handler(MetricsSetup.handler(vertx, cfg.metrics()));
    } else if (cfg.metrics().onApiPort()) {
      warnMetricsHidden(cfg);
    }
    router.get("/openapi.yaml").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/yaml; charset=utf-8")
        .putHeader("Content-Security-Policy", WebRoutes.DOCUMENT_CONTENT_SECURITY_POLICY)
        .putHeader("X-Content-Type-Options", "nosniff")
        .end(openApi));

    Handler<RoutingContext> body = BodyHandler.create(false).setBodyLimit(cfg.http().maxBodyBytes());
    Handler<RoutingContext> auth = new AuthHandler(verifier);
    Handler<RoutingContext> access = ctx -> policy.checkRate(AuthHandler.user(ctx))
        .compose(v -> policy.checkSubscription(AuthHandler.user(ctx)))
        .onSuccess(v -> ctx.next())
        .onFailure(ctx::fail);
    // "/chats/*" matches "/chats" itself too, so each request passes these once.
    router.route("/chats/*").handler(body).handler(auth).handler(access);
    router.route("/usage").handler(body).handler(auth).handler(access);

    router.post("/chats").handler(sessions::create);
    router.get("/chats").handler(sessions::list);
    // Before /chats/:sessionId, which would otherwise take "search" for a session id.
    router.get("/chats/search").handler(history::search);
    router.get("/chats/:sessionId/export").handler(history::export);
    router.get("/usage").handler(history::usage);
    router.get("/chats/:sessionId").handler(sessions::get);
    router.patch("/chats/:sessionId").handler(sessions::rename);
    router.delete("/chats/:sessionId").handler(sessions::delete);
    NodeLifecycle life = NodeLifecycle.of(vertx);
    router.post("/chats/:sessionId/messages").handler(ctx -> refuseWhileDraining(ctx, life)).handler(messages::send);
    router.get("/chats/:sessionId/messages").handler(messages::list);
    router.get("/chats/:sessionId/messages/:messageId").handler(messages::get);
    router.post("/chats/:sessionId/messages/:messageId/cancel").handler(messages::cancel);
    // versions, continue and feedback (docs/versions.md)
    ControlHandlers controls = new ControlHandlers(store, policy, messages, cfg.messages());
    router.post("/chats/:sessionId/messages/:messageId/regenerate")
        .handler(ctx -> refuseWhileDraining(ctx, life)).handler(controls::regenerate);
    router.post("/chats/:sessionId/messages/:messageId/continue")
        .handler(ctx -> refuseWhileDraining(ctx, life)).handler(controls::continueReply);
    router.patch("/chats/:sessionId/messages/:messageId")
        .handler(ctx -> refuseWhileDraining(ctx, life)).handler(controls::edit);
    router.put("/chats/:sessionId/messages/:messageId/feedback").handler(controls::putFeedback);
    router.delete("/chats/:sessionId/messages/:messageId/feedback").handler(controls::deleteFeedback);

    // /docs, and the reference web client at / (webclient.*)
    WebRoutes.mount(vertx, router, cfg.webclient(), cfg.gateway().port(), cfg.auth(), cfg.node().publicBaseUrl(),
        perAddressLimit(vertx, "dev-token", cfg.auth().devTokensPerMinute()));

    // POST /internal/chat-ai-worker: mounted only in cloud-tasks mode or when explicitly enabled.
    CloudTasksWorkerHandler.mountIfEnabled(vertx, router, cfg.cloudTasks());

    router.route().failureHandler(errors::handle);
    router.errorHandler(400, errors.forStatus(400));
    router.errorHandler(404, errors.forStatus(404));
    router.errorHandler(405, errors.forStatus(405));
    router.errorHandler(500, errors.forStatus(500));
    return router;
  }

  private static final java.util.concurrent.atomic.AtomicBoolean METRICS_HINT_LOGGED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Once per process: why /metrics is 404 on a public API port. */
  private static void warnMetricsHidden(ApiSettings cfg) {
    if (METRICS_HINT_LOGGED.compareAndSet(false, true)) {
      org.slf4j.LoggerFactory.getLogger(ApiRouter.class).warn(
          "/metrics is not served on the API port: http.host {} is not loopback; set metrics.port"
              + " (CHAT_METRICS_PORT, the management port) or metrics.token (CHAT_METRICS_TOKEN)", cfg.http().host());
    }
  }

  /**
   * At most {@code perMinute} requests per remote address per minute window (one count per process,
   * shared by the API instances); more get 429 {@code RATE_LIMITED} with {@code Retry-After}.
   */
  static Handler<RoutingContext> perAddressLimit(Vertx vertx, String name, int perMinute) {
    RateLimiter limiter = RateLimiter.shared(vertx, name, perMinute);
    return ctx -> {
      io.vertx.core.net.SocketAddress remote = ctx.request().remoteAddress();
      String address = remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
      long resetAt = limiter.acquire(address, System.currentTimeMillis());
      if (resetAt < 0) {
        ctx.next();
      } else {
        ctx.fail(AccessPolicy.rateLimited(resetAt));
      }
    };
  }

  /** A draining node stores no new message: 503 {@code DRAINING}, so the client sends again elsewhere. */
  private static void refuseWhileDraining(RoutingContext ctx, NodeLifecycle life) {
    if (life.draining()) {
      ctx.fail(ApiError.of(ErrorCode.DRAINING, ErrorCode.DRAINING.defaultMessage()).withHeader("Retry-After", "1"));
    } else {
      ctx.next();
    }
  }

  private static void health(RoutingContext ctx, Conversations store) {
    // A real round trip through persistence to the database: a count that matches nothing.
    store.countUserMessagesSince("000000000000000000000000", Instant.now())
        .onSuccess(n -> Responses.json(ctx, 200, new JsonObject().put("status", "ok")))
        .onFailure(err -> ctx.fail(ApiError.of(ErrorCode.UNAVAILABLE, "persistence is not answering")));
  }

  private static CorsHandler cors(ApiSettings cfg) {
    CorsHandler cors = CorsHandler.create()
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PATCH, HttpMethod.PUT, HttpMethod.DELETE))
        .allowedHeaders(Set.of("Authorization", "Content-Type"))
        .exposedHeaders(Set.of("Location", "Retry-After"));
    cfg.http().corsOrigins().forEach(cors::addOrigin);
    return cors;
  }
}
