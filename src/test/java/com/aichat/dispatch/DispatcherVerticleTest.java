package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.AiWorkerVerticle;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("The dispatcher: hand-over to workers and the recovery sweep")
class DispatcherVerticleTest {

  private GenerationHarness h;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    // no AI worker on this node at first
    JsonObject overrides = new JsonObject().put("verticles", new JsonObject().put("worker", 0));
    GenerationHarness.start(vertx, dir, overrides).onComplete(ctx.succeeding(started -> {
      h = started;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("a reply dispatched while no worker runs stays pending, and is generated once a worker appears")
  void pendingUntilAWorkerAppears(Vertx vertx, VertxTestContext ctx) {
    h.fake().script("late-worker", FakeAnthropicServer.stream(List.of("finally ", "here"), 2));
    String user = GenerationHarness.newUserId();
    String[] ids = new String[2];
    h.newSession(user)
        .compose(s -> {
          ids[0] = s.id();
          return h.store().sendMessage(user, s.id(), "late-worker", null);
        })
        .compose(r -> {
          ids[1] = r.reply().id();
          return vertx.eventBus().<JsonObject>request(Addresses.DISPATCH, new JsonObject().put("messageId", ids[1]));
        })
        .compose(answer -> {
          ctx.verify(() -> assertThat(answer.body().getBoolean("dispatched")).isTrue());
          Promise<Void> wait = Promise.promise();
          vertx.setTimer(1200, t -> wait.complete());
          return wait.future();
        })
        .compose(v -> h.store().getMessage(user, ids[0], ids[1]))
        .compose(stillPending -> {
          ctx.verify(() -> {
            assertThat(stillPending.status()).isEqualTo(MessageStatus.PENDING);
            assertThat(h.fake().requests()).isEmpty();
          });
          return vertx.deployVerticle(new AiWorkerVerticle(h.app().config().worker(), h.app().config().providers()));
        })
        .compose(id -> h.finalReply(ids[1]))
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(reply.content()).isEqualTo("finally here");
          assertThat(h.fake().requestsFor("late-worker")).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a dispatch request without a messageId is refused with VALIDATION_FAILED")
  void invalidDispatch(Vertx vertx, VertxTestContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.DISPATCH, new JsonObject())
        .map(Message::body)
        .map(b -> (Throwable) null)
        .recover(Future::succeededFuture)
        .onComplete(ctx.succeeding(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.VALIDATION_FAILED);
          ctx.completeNow();
        })));
  }
}
