package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Resuming a reply stream after a disconnect")
class GatewayResumeTest {

  private TestApp app;
  private ChatStore store;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    // a slow offline model, so that the reply is still generating when the client comes back
    JsonObject slow = new JsonObject().put("offline", new JsonObject().put("chunk_delay_ms", 40).put("chunk_chars", 8));
    TestApp.start(vertx, dir, slow).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A client dropped mid-generation reconnects, rejoins, gets the text so far in the join ack, and assembles exactly the stored reply")
  void disconnectMidGeneration(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    AtomicReference<String> sessionId = new AtomicReference<>();
    AtomicReference<String> replyId = new AtomicReference<>();
    store.createSession(userId, null, "resume")
        .compose(session -> {
          sessionId.set(session.id());
          JsonObject args = new JsonObject()
              .put("url", "http://127.0.0.1:" + app.gatewayPort())
              .put("token", TestTokens.token(vertx, userId))
              .put("sessionId", session.id())
              .put("dropAfterDeltas", 4)
              .put("pauseMs", 200);
          return NodeScenario.start(vertx, "reply", args, ready -> store
                  .sendMessage(userId, session.id(), "Please write a long report about resuming streams", null)
                  .onSuccess(sent -> replyId.set(sent.reply().id()))
                  .onFailure(ctx::failNow))
              .result();
        })
        .compose(r -> store.getMessage(userId, sessionId.get(), replyId.get()).map(stored -> new Object[] {r, stored}))
        .onComplete(ctx.succeeding(pair -> ctx.verify(() -> {
          JsonObject r = (JsonObject) pair[0];
          ChatMessage stored = (ChatMessage) pair[1];
          assertThat(stored.status()).isEqualTo(MessageStatus.COMPLETED);
          JsonArray snapshot = r.getJsonObject("resumed").getJsonArray("snapshot");
          assertThat(snapshot).as("the rejoin happened while the reply was generating").hasSize(1);
          JsonObject snap = snapshot.getJsonObject(0);
          assertThat(snap.getString("messageId")).isEqualTo(stored.id());
          assertThat(snap.getString("text")).isNotEmpty();
          assertThat(stored.content()).startsWith(snap.getString("text"));
          assertThat(snap.getString("text").length()).isLessThan(stored.content().length());
          assertThat(r.getJsonArray("violations")).isEmpty();
          assertThat(r.getJsonObject("texts").getString(stored.id())).isEqualTo(stored.content());
          ctx.completeNow();
        })));
  }
}
