package com.aichat.ai.provider;

import com.aichat.contract.ChatMessage.ErrorInfo;

/**
 * A failed model attempt, classified. Its message is written for users (it may be stored on an
 * {@code ai_error} reply) and never contains the API key or raw provider payloads.
 */
public final class ProviderException extends RuntimeException {

  /** Whether another attempt may help. */
  public enum Kind {
    /** 429, 529/overloaded, 5xx, timeouts, an {@code error} event, a stream cut before its end. */
    RETRYABLE,
    /** 400, 401, 403, 404, 413 and other client errors: retrying cannot help. */
    PERMANENT,
    /** The caller aborted the attempt (cancel, lost lease, shutdown). */
    ABORTED
  }

  private final Kind kind;
  private final String code;
  private final int httpStatus;
  private final long retryAfterMs;

  public ProviderException(Kind kind, String code, String safeMessage, int httpStatus, long retryAfterMs) {
    super(safeMessage, null, false, false);
    this.kind = kind;
    this.code = code;
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
  }

  public static ProviderException retryable(String code, String safeMessage) {
    return new ProviderException(Kind.RETRYABLE, code, safeMessage, 0, -1);
  }

  public static ProviderException aborted() {
    return new ProviderException(Kind.ABORTED, "aborted", "The generation was stopped.", 0, -1);
  }

  public Kind kind() {
    return kind;
  }

  public boolean retryable() {
    return kind == Kind.RETRYABLE;
  }

  /** Stable code stored on the reply, e.g. {@code provider_overloaded}. */
  public String code() {
    return code;
  }

  /** The HTTP status that caused it, 0 if none. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The provider's {@code retry-after} in milliseconds, or -1 when it sent none. */
  public long retryAfterMs() {
    return retryAfterMs;
  }

  public ErrorInfo toErrorInfo() {
    return new ErrorInfo(code, getMessage());
  }
}
