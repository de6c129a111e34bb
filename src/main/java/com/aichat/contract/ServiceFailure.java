package com.aichat.contract;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * A classified failure with a message that is safe to show a client. It is a {@link ReplyException}
 * so that it crosses the event bus unchanged: a consumer can {@code message.reply(failure)} or fail
 * with {@link ErrorCode#failureCode()} and the requester sees the same code.
 */
public final class ServiceFailure extends ReplyException {

  private final ErrorCode code;

  public ServiceFailure(ErrorCode code, String safeMessage) {
    super(ReplyFailure.RECIPIENT_FAILURE, code.failureCode(), safeMessage, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
