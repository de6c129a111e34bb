package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.provider.OfflineModel;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
@DisplayName("The offline model (embedded default without an API key) through the whole pipeline")
class OfflineModelTest {

  private GenerationHarness h;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    // no claude.api_key and ai.provider auto: the offline model
    JsonObject overrides = new JsonObject()
        .put("ai", new JsonObject().put("provider", "auto"))
        .put("claude", new JsonObject().put("api_key", ""))
        .put("offline", new JsonObject().put("chunk_chars", 7).put("chunk_delay_ms", 1));
    GenerationHarness.start(vertx, dir, overrides).onComplete(ctx.succeeding(started -> {
      h = started;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  private Future<List<ChatMessage>> conversation(String user) {
    return h.newSession(user).compose(s -> h.ask(user, s.id(), "What is a lease in this service?")
        .compose(first -> h.ask(user, s.id(), "And how does the claim use it?")
            .map(second -> List.of(first, second))));
  }

  @Test
  @DisplayName("replies are labelled offline, reflect the context (earlier turns, last question) and are deterministic")
  void offlineRepliesReflectContext(VertxTestContext ctx) {
    String alice = GenerationHarness.newUserId();
    String bob = GenerationHarness.newUserId();
    conversation(alice)
        .compose(a -> conversation(bob).map(b -> List.of(a, b)))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          List<ChatMessage> a = both.get(0);
          List<ChatMessage> b = both.get(1);
          ChatMessage first = a.get(0);
          ChatMessage second = a.get(1);
          assertThat(first.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(first.model()).isEqualTo(OfflineModel.MODEL);
          assertThat(first.content())
              .contains("Offline model")
              .contains("Context received: 0 earlier turns")
              .contains("Your last question: \"What is a lease in this service?\"");
          assertThat(second.model()).isEqualTo(OfflineModel.MODEL);
          assertThat(second.content())
              .contains("Context received: 2 earlier turns (1 from you, 1 from the assistant)")
              .contains("Your last question: \"And how does the claim use it?\"");
          assertThat(second.context().messagesUsed()).isEqualTo(2);
          // streamed in chunks through the same delta path as Claude
          assertThat(h.deltaText(second.id())).isEqualTo(second.content());
          assertThat(h.deltas(second.id()).size()).isGreaterThan(1);
          // deterministic: the same conversation gives the same replies
          assertThat(b.get(0).content()).isEqualTo(first.content());
          assertThat(b.get(1).content()).isEqualTo(second.content());
          assertThat(h.fake().requests()).isEmpty();
          ctx.completeNow();
        })));
  }
}
