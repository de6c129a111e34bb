package com.aichat.api;

import com.aichat.contract.ErrorCode;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Requests the HTTP stack or vertx-web would otherwise refuse with a bare status (or fail on with a
 * 500): every one gets the JSON error body of the API with a stable code.
 *
 * <ul>
 *   <li>{@link #invalidRequest}: the server's invalid-request handler, for requests netty could not
 *       decode (request line too long → 414 {@code URI_TOO_LONG}, headers too large → 431
 *       {@code HEADERS_TOO_LARGE}, anything else → 400 {@code MALFORMED_REQUEST}); the connection is
 *       closed after the answer, as its framing can no longer be trusted.
 *   <li>{@link #requestShape}: the first route: an HTTP/1.1 request without {@code Host} is 400
 *       {@code MALFORMED_REQUEST}; a form or multipart body is 415 {@code UNSUPPORTED_MEDIA_TYPE}
 *       before the body handler tries to decode it (this API only reads JSON).
 * </ul>
 */
final class ProtocolGuard {

  private ProtocolGuard() {}

  static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    ErrorCode code;
    String message;
    if (cause instanceof TooLongHttpLineException) {
      code = ErrorCode.URI_TOO_LONG;
      message = "the request line is too long";
    } else if (cause instanceof TooLongHttpHeaderException) {
      code = ErrorCode.HEADERS_TOO_LARGE;
      message = "the request headers are too large";
    } else {
      code = ErrorCode.MALFORMED_REQUEST;
      message = "the request is not well-formed HTTP";
    }
    request.response()
        .setStatusCode(code.httpStatus())
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(body(code, message))
        .onComplete(ar -> request.connection().close());
  }

  static Handler<RoutingContext> requestShape() {
    return ctx -> {
      HttpServerRequest req = ctx.request();
      if (req.version() == HttpVersion.HTTP_1_1 && req.headers().get(HttpHeaders.HOST) == null) {
        closeWith(ctx, ErrorCode.MALFORMED_REQUEST, "HTTP/1.1 requests need a Host header");
        return;
      }
      String type = req.headers().get(HttpHeaders.CONTENT_TYPE);
      if (type != null && isFormType(type)) {
        ApiErrors.write(ctx, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE.name(), "body must be application/json", null);
        return;
      }
      ctx.next();
    };
  }

  /** The media types vertx-web's body handler would decode as form attributes or uploads. */
  static boolean isFormType(String contentType) {
    String t = contentType.trim().toLowerCase(java.util.Locale.ROOT);
    return t.startsWith("multipart/") || t.startsWith("application/x-www-form-urlencoded");
  }

  /** A refusal after which the connection is closed (its framing cannot be trusted). */
  static void closeWith(RoutingContext ctx, ErrorCode code, String message) {
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ApiErrors.write(ctx, code.httpStatus(), code.name(), message, null);
  }

  private static String body(ErrorCode code, String message) {
    return new JsonObject().put("error", new JsonObject().put("code", code.name()).put("message", message)).encode();
  }
}
