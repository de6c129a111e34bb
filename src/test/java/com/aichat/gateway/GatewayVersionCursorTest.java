package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.Revisions;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
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
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's per-socket cursor across versions and continues (docs/versions.md), with the official client. */
@ExtendWith(VertxExtension.class)
@DisplayName("Gateway: reply cursors across versions and continues")
class GatewayVersionCursorTest {

  private TestApp app;
  private ChatStore store;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    TestApp.start(vertx, dir, new JsonObject().put("verticles", new JsonObject().put("worker", 0)))
        .onComplete(ctx.succeeding(a -> {
          app = a;
          ctx.completeNow();
        }));
  }

  private static ChatMessage reply(String id, String sessionId, String userId, String content, MessageStatus status,
      int attempts, Revisions revisions) {
    Instant now = Instant.now();
    return new ChatMessage(id, sessionId, userId, MessageType.AI_REPORT, content, status, null, null, "test", null,
        null, null, attempts, null, now, now, revisions);
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("an older version's late final event never reaches a socket streaming the newer one, and a continue's deltas start at continueOffset")
  void staleVersionDroppedAndContinueOffsets(Vertx vertx, VertxTestContext ctx) {
    String alice = TestTokens.newUserId();
    String messageId = new ObjectId().toHexString();
    AtomicReference<NodeScenario> node = new AtomicReference<>();
    store.createSession(alice, null, "cursors")
        .compose(s -> {
          JsonObject args = new JsonObject()
              .put("url", "http://127.0.0.1:" + app.gatewayPort())
              .put("settleMs", 500)
              .put("clients", new JsonArray().add(new JsonObject().put("name", "alice")
                  .put("token", TestTokens.token(vertx, alice)).put("join", new JsonArray().add(s.id()))));
          node.set(NodeScenario.start(vertx, "listen", args, ready -> {
            String sid = s.id();
            Revisions v2 = new Revisions(2, new JsonArray().add(new JsonObject().put("version", 1)), 1, null, null);
            Revisions v2Continue = new Revisions(2, v2.versions(), 2, 11, null);
            publish(vertx, MessageEvent.PROCESSING, reply(messageId, sid, alice, "", MessageStatus.PROCESSING, 2, v2));
            delta(vertx, alice, sid, messageId, 1, 0, "new ");
            // version 1's end, delivered late (e.g. from another node): older attempt than the cursor's
            publish(vertx, MessageEvent.COMPLETED,
                reply(messageId, sid, alice, "old text", MessageStatus.COMPLETED, 1, Revisions.NONE));
            delta(vertx, alice, sid, messageId, 2, 4, "version");
            publish(vertx, MessageEvent.COMPLETED, reply(messageId, sid, alice, "new version", MessageStatus.COMPLETED, 2, v2));
            // a continue of version 2: its attempt starts after the 11 characters it continues
            publish(vertx, MessageEvent.PROCESSING,
                reply(messageId, sid, alice, "new version", MessageStatus.PROCESSING, 3, v2Continue));
            delta(vertx, alice, sid, messageId, 1, 11, " and more");
            publish(vertx, MessageEvent.COMPLETED,
                reply(messageId, sid, alice, "new version and more", MessageStatus.COMPLETED, 3, v2));
            node.get().send("STOP");
          }));
          return node.get().result();
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject a = r.getJsonArray("clients").getJsonObject(0);
          List<JsonObject> received = a.getJsonArray("received").stream().map(o -> (JsonObject) o).toList();
          List<String> finals = received.stream().filter(e -> e.getString("event").equals("message.completed"))
              .map(e -> e.getJsonObject("payload").getString("content")).toList();
          assertThat(finals).containsExactly("new version", "new version and more");
          List<Long> offsets = received.stream().filter(e -> e.getString("event").equals("message.delta"))
              .map(e -> e.getJsonObject("payload").getLong("offset")).toList();
          assertThat(offsets).containsExactly(0L, 4L, 11L);
          assertThat(a.getJsonArray("violations")).isEmpty();
          ctx.completeNow();
        })));
  }

  private static void publish(Vertx vertx, String type, ChatMessage m) {
    vertx.eventBus().publish(Addresses.EVENTS_MESSAGE, new MessageEvent(type, m.userId(), m.sessionId(), m).toJson());
  }

  private static void delta(Vertx vertx, String userId, String sessionId, String messageId, long seq, long offset, String text) {
    vertx.eventBus().publish(Addresses.EVENTS_DELTA, new DeltaEvent(userId, sessionId, messageId, seq, offset, text).toJson());
  }
}
