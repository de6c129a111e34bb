package com.aichat.api;

import com.aichat.auth.GoogleOidcVerifier;
import com.aichat.auth.GoogleOidcVerifier.OidcRejection;
import com.aichat.config.LogSafe;
import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.GenerationOutcome;
import com.aichat.contract.MessageStatus;
import com.aichat.dispatch.CloudTasksSettings;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /internal/chat-ai-worker}: the target of the Cloud Tasks HTTP tasks created by
 * {@link com.aichat.dispatch.CloudTasksDispatch}. Mounted only when
 * {@link CloudTasksSettings#workerEndpointEnabled()} (always in {@code cloud-tasks} mode); otherwise the
 * path is a plain 404.
 *
 * <ol>
 *   <li>Verifies the OIDC bearer with {@link GoogleOidcVerifier} before anything else: a request
 *       without a valid token gets a bare 401 (not a valid Google token) or 403 (not for us) and does
 *       nothing; the reason goes to the log only.
 *   <li>Logs the {@code X-CloudTasks-TaskName}, {@code -TaskRetryCount} and {@code -TaskExecutionCount}
 *       headers.
 *   <li>Sends the job to a worker on {@link Addresses#AI_GENERATE} with {@code retryInProcess: false}
 *       (Cloud Tasks owns the retries) and a one-shot {@code outcomeAddress}; the bus request is
 *       answered at once, while this HTTP request stays open until the {@link GenerationOutcome}
 *       arrives, at most the dispatch deadline (less a second, to answer before Cloud Tasks gives up).
 *   <li>Answers so that Cloud Tasks does the right thing: 200 when the reply is final (completed,
 *       failed for good, cancelled, or already final on a duplicate delivery, deleted, or taken over by
 *       a newer run that another task started); 503 when it
 *       should be tried again (a retryable failure released the reply, another worker holds its lease,
 *       its retry time has not come, no worker is reachable, or no outcome came in time); 429 when the
 *       worker had no free slot.
 * </ol>
 */
public final class CloudTasksWorkerHandler implements Handler<RoutingContext> {

  private static final Logger log = LoggerFactory.getLogger(CloudTasksWorkerHandler.class);

  /** The task body is {@code {"messageId": "<24 hex>"}}; anything much larger is not ours. */
  static final int MAX_BODY_BYTES = 4 * 1024;

  /** How long the worker may take to accept or refuse the job (it answers at once). */
  static final long ACCEPT_TIMEOUT_MS = 10_000;

  private static final Set<String> FINAL_STATUSES =
      Set.of(
          MessageStatus.COMPLETED.wire(), MessageStatus.FAILED.wire(), MessageStatus.CANCELLED.wire());

  private final Vertx vertx;
  private final GoogleOidcVerifier verifier;
  private final long outcomeTimeoutMs;

  private CloudTasksWorkerHandler(Vertx vertx, GoogleOidcVerifier verifier, long outcomeTimeoutMs) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.outcomeTimeoutMs = outcomeTimeoutMs;
  }

  /** The handler for these settings; create it on the verticle's context (its JWKS client lives there). */
  public static CloudTasksWorkerHandler create(Vertx vertx, CloudTasksSettings settings) {
    GoogleOidcVerifier verifier =
        new GoogleOidcVerifier(
            vertx, settings.oidcJwksUrl(), settings.audience(), settings.serviceAccountEmail(), Clock.systemUTC());
    long timeout = Math.max(5_000, settings.dispatchDeadlineSeconds() * 1000L - 1_000);
    return new CloudTasksWorkerHandler(vertx, verifier, timeout);
  }

  /** Mounts the endpoint on {@code router} when the settings enable it; returns the handler or null. */
  public static CloudTasksWorkerHandler mountIfEnabled(Vertx vertx, Router router, CloudTasksSettings settings) {
    if (!settings.workerEndpointEnabled()) {
      return null;
    }
    CloudTasksWorkerHandler handler = create(vertx, settings);
    router
        .post(CloudTasksSettings.WORKER_PATH)
        .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
        .handler(handler);
    log.info("Cloud Tasks worker endpoint {} enabled (audience {}, service account {})",
        CloudTasksSettings.WORKER_PATH, settings.audience(), settings.serviceAccountEmail());
    return handler;
  }

  public void close() {
    verifier.close();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String taskName = ctx.request().getHeader("X-CloudTasks-TaskName");
    String retryCount = ctx.request().getHeader("X-CloudTasks-TaskRetryCount");
    String executionCount = ctx.request().getHeader("X-CloudTasks-TaskExecutionCount");
    log.info("Cloud Tasks push: task {} retry {} execution {}",
        LogSafe.quote(taskName), LogSafe.quote(retryCount), LogSafe.quote(executionCount));
    verifier
        .verify(bearer(ctx))
        .compose(claims -> messageId(ctx))
        .compose(this::runJob)
        .onSuccess(outcome -> answer(ctx, taskName, outcome))
        .onFailure(err -> fail(ctx, taskName, err));
  }

  private static String bearer(RoutingContext ctx) {
    String h = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (h == null || h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    return h.substring(7).trim();
  }

  private static Future<String> messageId(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      Object id = body == null ? null : body.getValue("messageId");
      if (id instanceof String s && JsonBody.OBJECT_ID.matcher(s).matches()) {
        return Future.succeededFuture(s.toLowerCase(java.util.Locale.ROOT));
      }
    } catch (RuntimeException e) {
      // falls through to the validation failure below
    }
    return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("body must be {\"messageId\": \"<24-hex id>\"}"));
  }

  /** Hands the job to a worker and waits for how it ended. */
  private Future<GenerationOutcome> runJob(String messageId) {
    String address = Addresses.aiOutcome(UUID.randomUUID().toString());
    Promise<GenerationOutcome> outcome = Promise.promise();
    MessageConsumer<JsonObject> consumer =
        vertx.eventBus().consumer(address, m -> outcome.tryComplete(GenerationOutcome.fromJson(m.body())));
    GenerateRequest request = new GenerateRequest(messageId, false, address);
    return consumer
        .completion()
        .compose(v -> vertx.eventBus().<JsonObject>request(
            Addresses.AI_GENERATE, request.toJson(), new DeliveryOptions().setSendTimeout(ACCEPT_TIMEOUT_MS)))
        .map(reply -> GenerateRequest.Answer.fromJson(reply.body()))
        .compose(answer -> answer.accepted()
            ? outcome.future().timeout(outcomeTimeoutMs, TimeUnit.MILLISECONDS)
            : Future.succeededFuture(new GenerationOutcome(messageId, GenerationOutcome.BUSY, null, null)))
        .eventually(consumer::unregister);
  }

  static void answer(RoutingContext ctx, String taskName, GenerationOutcome o) {
    int status = switch (o.outcome()) {
      case GenerationOutcome.COMPLETED, GenerationOutcome.FAILED, GenerationOutcome.CANCELLED -> 200;
      // Already final (a duplicate delivery), deleted with its session, or the lease lost to a newer
      // run (which came from a newer task that answers for it): done. Held by another worker, or
      // pending until its retry time: try again later.
      case GenerationOutcome.NOT_CLAIMED -> o.status() == null || FINAL_STATUSES.contains(o.status()) ? 200 : 503;
      case GenerationOutcome.BUSY -> 429;
      case GenerationOutcome.RETRY -> 503;
      default -> 500;
    };
    log.info("Cloud Tasks task {} for reply {} ended {} ({}): HTTP {}",
        LogSafe.quote(taskName), o.messageId(), o.outcome(), o.status(), status);
    JsonObject body = new JsonObject().put("messageId", o.messageId()).put("outcome", o.outcome());
    if (o.status() != null) {
      body.put("status", o.status());
    }
    if (status == 200) {
      ctx.response()
          .setStatusCode(status)
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .end(body.encode());
      return;
    }
    // every non-2xx answer uses the one error model; the outcome goes in its details
    ErrorCode code = switch (status) {
      case 429 -> ErrorCode.RATE_LIMITED;
      case 503 -> ErrorCode.UNAVAILABLE;
      default -> ErrorCode.INTERNAL;
    };
    String message = switch (status) {
      case 429 -> "no worker slot is free; retry later";
      case 503 -> "the reply is not final yet; retry later";
      default -> code.defaultMessage();
    };
    ApiErrors.write(ctx, status, code.name(), message, body);
  }

  /** Renders refusals through the API's one error model ({@link ApiErrors}); no token details leak. */
  private static void fail(RoutingContext ctx, String taskName, Throwable err) {
    if (err instanceof OidcRejection r) {
      log.warn("Cloud Tasks push for task {} refused ({}): {}", LogSafe.quote(taskName), r.status(), r.getMessage());
      ctx.fail(r.status() == 403
          ? ApiError.of(ErrorCode.FORBIDDEN, "forbidden")
          : ApiError.of(ErrorCode.UNAUTHENTICATED, "authentication required")
              .withHeader("WWW-Authenticate", ApiErrors.WWW_AUTHENTICATE));
    } else if (ErrorCode.fromThrowable(err) == ErrorCode.VALIDATION_FAILED) {
      log.warn("Cloud Tasks push for task {} has an invalid body", LogSafe.quote(taskName));
      ctx.fail(ApiError.of(ErrorCode.VALIDATION_FAILED, err.getMessage()));
    } else {
      // No worker reachable, the worker did not answer, or no outcome before the deadline.
      log.warn("Cloud Tasks push for task {} not completed, Cloud Tasks will retry: {}",
          LogSafe.quote(taskName), err.getMessage());
      ctx.fail(ApiError.of(ErrorCode.UNAVAILABLE, "the job could not be run now; retry later"));
    }
  }
}
