package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ErrorCode;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class GatewayErrorMessageTest {

  @Test
  @DisplayName("a join ack never shows the text of a bus timeout or a missing handler, which names internal addresses")
  void busFailuresGetFixedMessages() {
    ReplyException timeout = new ReplyException(ReplyFailure.TIMEOUT, -1,
        "Timed out after waiting 15000(ms) for a reply. address: __vertx.reply.1, repliedAddress: chat.persistence");
    ReplyException noHandlers = new ReplyException(ReplyFailure.NO_HANDLERS, -1,
        "No handlers for address chat.persistence");
    ReplyException internal = new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 500, "E11000 duplicate key");

    assertThat(GatewayVerticle.safeMessage(timeout)).isEqualTo(ErrorCode.TIMEOUT.defaultMessage())
        .doesNotContain("chat.persistence");
    assertThat(GatewayVerticle.safeMessage(noHandlers)).isEqualTo(ErrorCode.UNAVAILABLE.defaultMessage())
        .doesNotContain("chat.persistence");
    assertThat(GatewayVerticle.safeMessage(internal)).isEqualTo("internal error");
  }

  @Test
  @DisplayName("a join ack keeps the safe message of a 4xx refusal and hides whether a session exists")
  void clientErrorsKeepTheirMessage() {
    assertThat(GatewayVerticle.safeMessage(ErrorCode.VALIDATION_FAILED.failure("sessionId must be a 24-hex id")))
        .isEqualTo("sessionId must be a 24-hex id");
    assertThat(GatewayVerticle.safeMessage(ErrorCode.NOT_FOUND.failure("session 65a... of user x")))
        .isEqualTo("session not found");
  }
}
