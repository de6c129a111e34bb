package com.aichat.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The one table from bus failures to HTTP statuses and stable codes. */
@ExtendWith(VertxExtension.class)
class ErrorCodeTest {

  @Test
  @DisplayName("A bus request nobody answers in time maps to 504 TIMEOUT")
  void busTimeoutIsTimeout(Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().consumer("test.silent", m -> { /* never replies */ })
        .completion()
        .compose(v -> vertx.eventBus().request("test.silent", "x", new DeliveryOptions().setSendTimeout(50)))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.TIMEOUT);
          assertThat(ErrorCode.fromThrowable(err).httpStatus()).isEqualTo(504);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A bus request to an address with no consumer maps to 503 UNAVAILABLE")
  void noHandlersIsUnavailable(Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().request("test.nobody", "x")
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.UNAVAILABLE);
          assertThat(ErrorCode.fromThrowable(err).httpStatus()).isEqualTo(503);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A consumer's failure code crosses the bus and maps back to its code; unknown codes and other errors are INTERNAL")
  void recipientCodesRoundTrip(Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().consumer("test.fails", m -> m.fail(ErrorCode.RATE_LIMITED.failureCode(), "slow down"))
        .completion()
        .compose(v -> vertx.eventBus().request("test.fails", "x"))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.RATE_LIMITED);
          assertThat(ErrorCode.RATE_LIMITED.httpStatus()).isEqualTo(429);
          assertThat(ErrorCode.fromThrowable(ErrorCode.CONFLICT.failure("stale"))).isEqualTo(ErrorCode.CONFLICT);
          assertThat(ErrorCode.fromThrowable(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 777, "?")))
              .isEqualTo(ErrorCode.INTERNAL);
          assertThat(ErrorCode.fromThrowable(new IllegalStateException("boom"))).isEqualTo(ErrorCode.INTERNAL);
          ctx.completeNow();
        })));
  }
}
