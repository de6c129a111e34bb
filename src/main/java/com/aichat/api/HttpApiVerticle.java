package com.aichat.api;

import com.aichat.auth.DevTokenCommand;
import com.aichat.auth.JwtTokenVerifier;
import com.aichat.auth.TokenVerifier;
import com.aichat.limits.ClusterLimits;
import com.aichat.persistence.Conversations;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST API: builds the router with {@link ApiRouter#create} and serves it on {@code http.host}:
 * {@code http.port}. It reaches storage only through {@link Conversations} on the event bus. Several
 * instances share the port (Vert.x balances connections between them). {@link ConnectionGuard} closes
 * connections that are slow to send headers or idle between requests, and caps connections per IP.
 */
public final class HttpApiVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(HttpApiVerticle.class);
  static final String OPENAPI_RESOURCE = "openapi.yaml";
  /** The dev-token hint is logged once per process, not once per instance. */
  private static final AtomicBoolean DEV_HINT_LOGGED = new AtomicBoolean();

  private final ApiSettings cfg;
  private HttpServer server;

  public HttpApiVerticle(ApiSettings cfg) {
    this.cfg = cfg;
  }

  @Override
  public Future<?> start() {
    return ClusterLimits.of(vertx, cfg.limits())
        .compose(limits -> JwtTokenVerifier.create(vertx, cfg.auth())
            .compose(verifier -> vertx.fileSystem().readFile(OPENAPI_RESOURCE).map(doc -> router(verifier, doc, limits))))
        .compose(this::listen)
        .onSuccess(s -> logStarted(s.actualPort()));
  }

  private Router router(TokenVerifier verifier, Buffer openApi, ClusterLimits limits) {
    return ApiRouter.create(vertx, cfg, verifier, Conversations.client(vertx),
        Conversations.client(vertx, ApiRouter.HEALTH_TIMEOUT_MS), openApi, limits);
  }

  private Future<HttpServer> listen(Router router) {
    ConnectionGuard guard = new ConnectionGuard(vertx, cfg.http());
    // runs before every other route (ApiRouter's included): re-arms the idle timer when a response ends
    router.route().order(Integer.MIN_VALUE).handler(guard::trackEnd);
    // HTTP/1.1 only: with cleartext HTTP/2 (h2c) on, Vert.x holds a new connection back until its
    // first bytes tell the protocol, so ConnectionGuard could not time a client that sends nothing.
    server = vertx.createHttpServer(new HttpServerOptions()
        .setCompressionSupported(true)
        .setHttp2ClearTextEnabled(false));
    return server
        .connectionHandler(guard::onConnection)
        .requestHandler(req -> {
          guard.onRequest(req);
          router.handle(req);
        })
        .invalidRequestHandler(ProtocolGuard::invalidRequest)
        .listen(cfg.http().port(), cfg.http().host());
  }

  private void logStarted(int port) {
    log.info("HTTP API listening on {}:{} (OpenAPI at /openapi.yaml)", cfg.http().host(), port);
    if (cfg.auth().usesDevSecret() && DEV_HINT_LOGGED.compareAndSet(false, true)) {
      log.info("JWT: using the generated dev secret in {}; get a token with: java -jar target/chat-service.jar {} [userId]",
          cfg.auth().devSecretFile(), DevTokenCommand.NAME);
    }
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
