package com.aichat.api;

import com.aichat.config.LogSafe;
import com.aichat.contract.ErrorCode;
import com.aichat.metrics.Metrics;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP responses. Our own {@link ApiError}s keep their code,
 * message and details; event-bus failures are classified with {@link ErrorCode#fromThrowable} (their
 * text is shown only for 4xx codes, which the store documents as safe); bare status codes from
 * vertx-web (no route 404, wrong method 405, body too large 413) get their code here. 5xx answers use
 * fixed messages, so no driver text or stack trace reaches a client.
 *
 * <p>Wrong method is answered 405 with the code {@value #METHOD_NOT_ALLOWED} and an {@code Allow}-less
 * body; it is the one code that is not an {@link ErrorCode}, because no bus failure ever maps to it.
 */
final class ApiErrors {

  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);
  static final String METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED";
  static final String WWW_AUTHENTICATE = "Bearer realm=\"chat-service\"";

  /** Refusals counted in {@code aichat_requests_refused_total}, by their lower-cased code. */
  private static final Set<ErrorCode> REFUSALS =
      EnumSet.of(ErrorCode.RATE_LIMITED, ErrorCode.QUOTA_EXCEEDED, ErrorCode.OVERLOADED, ErrorCode.DRAINING);

  private final int maxBodyBytes;
  private final Metrics metrics;

  ApiErrors(int maxBodyBytes, Metrics metrics) {
    this.maxBodyBytes = maxBodyBytes;
    this.metrics = metrics;
  }

  /** Failure handler and router error handler alike. */
  void handle(RoutingContext ctx) {
    handle(ctx, ctx.statusCode());
  }

  /**
   * The router's error handler for {@code status}: vertx-web may call it with a context that carries
   * neither the failure nor the status (an illegal %-escape in the path), so the status is given here.
   */
  Handler<RoutingContext> forStatus(int status) {
    return ctx -> handle(ctx, ctx.statusCode() == -1 ? status : ctx.statusCode());
  }

  private void handle(RoutingContext ctx, int status) {
    HttpServerResponse resp = ctx.response();
    if (resp.ended()) {
      return;
    }
    if (resp.headWritten()) {
      resp.reset();
      return;
    }
    Throwable failure = ctx.failure();
    ErrorCode refused = failure instanceof ApiError e ? e.code() : failure == null ? null : ErrorCode.fromThrowable(failure);
    if (refused != null && REFUSALS.contains(refused)) {
      metrics.refused(refused.name().toLowerCase(Locale.ROOT));
    }
    if (failure instanceof ApiError e) {
      e.headers().forEach(resp::putHeader);
      write(ctx, e.code().httpStatus(), e.code().name(), e.getMessage(), e.details());
    } else if (failure != null && status >= 400 && status < 500
        && ErrorCode.fromThrowable(failure) == ErrorCode.INTERNAL) {
      // vertx-web's router refused the request itself (e.g. no Host header: 400).
      handleStatus(ctx, status);
    } else if (failure != null) {
      handleThrowable(ctx, failure);
    } else {
      handleStatus(ctx, status);
    }
  }

  private void handleThrowable(RoutingContext ctx, Throwable failure) {
    ErrorCode code = ErrorCode.fromThrowable(failure);
    if (failure instanceof HttpException he && he.getStatusCode() < 500) {
      // vertx-web's own refusals: body too large, illegal URL escapes, ...
      handleStatus(ctx, he.getStatusCode());
      return;
    }
    if (code == ErrorCode.INTERNAL && !(failure instanceof ReplyException) && !ctx.request().isEnded()) {
      // The request failed while its body was still being read: bad chunked framing or a reset, a
      // client protocol error rather than ours.
      log.debug("malformed request body on {} {}: {}", ctx.request().method(), ctx.request().path(), failure.toString());
      ProtocolGuard.closeWith(ctx, ErrorCode.MALFORMED_REQUEST, "the request body is not well-formed HTTP");
      return;
    }
    if (code == ErrorCode.INTERNAL && !(failure instanceof ReplyException)) {
      log.error("unexpected failure on {} {}", ctx.request().method(), LogSafe.quote(ctx.request().path()), failure);
    } else if (code.httpStatus() >= 500) {
      log.warn("{} on {} {}: {}", code, ctx.request().method(), LogSafe.quote(ctx.request().path()), failure.getMessage());
    }
    String message = code.httpStatus() < 500 && failure.getMessage() != null
        ? failure.getMessage()
        : defaultMessage(code);
    if (code == ErrorCode.UNAUTHENTICATED) {
      ctx.response().putHeader("WWW-Authenticate", WWW_AUTHENTICATE);
    }
    write(ctx, code.httpStatus(), code.name(), message, null);
  }

  private void handleStatus(RoutingContext ctx, int status) {
    switch (status) {
      case 404 -> write(ctx, 404, ErrorCode.NOT_FOUND.name(), "no such resource", null);
      case 405 -> write(ctx, 405, METHOD_NOT_ALLOWED,
          "method " + ctx.request().method() + " is not allowed on this resource", null);
      case 413 -> write(ctx, 413, ErrorCode.PAYLOAD_TOO_LARGE.name(),
          "request body exceeds " + maxBodyBytes + " bytes",
          new JsonObject().put("maxBytes", maxBodyBytes));
      case 415 -> write(ctx, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE.name(), "body must be application/json", null);
      case 401 -> {
        ctx.response().putHeader("WWW-Authenticate", WWW_AUTHENTICATE);
        write(ctx, 401, ErrorCode.UNAUTHENTICATED.name(), "authentication required", null);
      }
      case 400 -> write(ctx, 400, ErrorCode.VALIDATION_FAILED.name(), "malformed request", null);
      case 414 -> write(ctx, 414, ErrorCode.URI_TOO_LONG.name(), "the request line is too long", null);
      case 431 -> write(ctx, 431, ErrorCode.HEADERS_TOO_LARGE.name(), "the request headers are too large", null);
      default -> {
        if (status != 500 && status != -1) {
          log.warn("unclassified status {} on {} {}", status, ctx.request().method(), LogSafe.quote(ctx.request().path()));
        }
        write(ctx, 500, ErrorCode.INTERNAL.name(), defaultMessage(ErrorCode.INTERNAL), null);
      }
    }
  }

  static String defaultMessage(ErrorCode code) {
    return code.defaultMessage();
  }

  static void write(RoutingContext ctx, int status, String code, String message, JsonObject details) {
    JsonObject error = new JsonObject().put("code", code).put("message", message);
    if (details != null) {
      error.put("details", details);
    }
    ctx.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .end(new JsonObject().put("error", error).encode());
  }
}
