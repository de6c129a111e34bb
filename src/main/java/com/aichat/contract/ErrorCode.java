package com.aichat.contract;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * The stable error codes of the service: one table from bus failure code to HTTP status and the
 * {@code error.code} string clients see. Bus consumers fail requests with {@link #failureCode()}; the
 * HTTP API maps any failure back with {@link #fromThrowable(Throwable)}.
 */
public enum ErrorCode {
  VALIDATION_FAILED(400, 400),
  /**
   * The request is not well-formed HTTP: bad framing (chunk sizes, conflicting lengths), a missing
   * {@code Host}, an undecodable request line. The connection is closed after the answer.
   */
  MALFORMED_REQUEST(4001, 400),
  UNAUTHENTICATED(401, 401),
  SUBSCRIPTION_REQUIRED(402, 402),
  FORBIDDEN(403, 403),
  NOT_FOUND(404, 404),
  CONFLICT(409, 409),
  PAYLOAD_TOO_LARGE(413, 413),
  /** The request line (path and query) is longer than the HTTP server accepts. */
  URI_TOO_LONG(414, 414),
  UNSUPPORTED_MEDIA_TYPE(415, 415),
  QUOTA_EXCEEDED(429, 429),
  RATE_LIMITED(4291, 429),
  /** The request headers are larger than the HTTP server accepts. */
  HEADERS_TOO_LARGE(431, 431),
  /**
   * Socket.IO only (a {@code connect_error}, never an HTTP answer): the user already holds
   * {@code gateway.max_sockets_per_user} sockets on this gateway node.
   */
  TOO_MANY_SOCKETS(4296, 429),
  INTERNAL(500, 500),
  UNAVAILABLE(503, 503),
  /**
   * The dispatcher's queue is past a configured limit ({@code dispatch.max_queued},
   * {@code dispatch.max_queued_per_user}, {@code dispatch.max_queue_wait_ms}): the send was refused
   * before anything was stored; the answer carries {@code Retry-After}.
   */
  OVERLOADED(5031, 503),
  TIMEOUT(504, 504);

  private final int failureCode;
  private final int httpStatus;

  ErrorCode(int failureCode, int httpStatus) {
    this.failureCode = failureCode;
    this.httpStatus = httpStatus;
  }

  /** The code a bus consumer passes to {@code message.fail(code, text)}. */
  public int failureCode() {
    return failureCode;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /**
   * The fixed text shown to clients when a failure's own message may not be shown (every 5xx: a bus
   * timeout or missing handler names internal addresses, a driver error may quote a query).
   */
  public String defaultMessage() {
    return switch (this) {
      case UNAVAILABLE -> "the service is temporarily unavailable; try again";
      case OVERLOADED -> "the service is at capacity; try again later";
      case TIMEOUT -> "the request timed out; try again";
      case INTERNAL -> "internal error";
      default -> name().toLowerCase().replace('_', ' ');
    };
  }

  /** A failure to return from a Future chain; its message must be safe to show a client. */
  public ServiceFailure failure(String safeMessage) {
    return new ServiceFailure(this, safeMessage);
  }

  public static ErrorCode fromFailureCode(int code) {
    for (ErrorCode c : values()) {
      if (c.failureCode == code) {
        return c;
      }
    }
    return INTERNAL;
  }

  /**
   * Classifies any failure: our own {@link ServiceFailure}, a bus {@link ReplyException} (recipient
   * failure codes, {@code TIMEOUT} → 504, {@code NO_HANDLERS} → 503), anything else → INTERNAL.
   */
  public static ErrorCode fromThrowable(Throwable t) {
    if (t instanceof ServiceFailure sf) {
      return sf.code();
    }
    if (t instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return TIMEOUT;
      }
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return UNAVAILABLE;
      }
      return fromFailureCode(re.failureCode());
    }
    return INTERNAL;
  }
}
