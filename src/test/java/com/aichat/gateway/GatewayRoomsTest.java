package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(VertxExtension.class)
@DisplayName("Gateway rooms: ownership-checked joins, per-user isolation, fan-out")
class GatewayRoomsTest {

  private static final Logger log = LoggerFactory.getLogger(GatewayRoomsTest.class);

  private TestApp app;
  private ChatStore store;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    // 200 sockets of one user in one room (twoHundredClients)
    JsonObject manySockets = new JsonObject().put("gateway", new JsonObject().put("max_sockets_per_user", 250).put("event_burst", 1000));
    TestApp.start(vertx, dir, manySockets).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  private String url() {
    return "http://127.0.0.1:" + app.gatewayPort();
  }

  private static List<String> eventNames(JsonObject client) {
    return client.getJsonArray("received").stream()
        .map(o -> ((JsonObject) o).getString("event")).toList();
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A user joins her own session and gets its reply stream and her session events; another user's join is refused and he receives nothing of hers")
  void isolationAndFullReply(Vertx vertx, VertxTestContext ctx) {
    String alice = TestTokens.newUserId();
    String bob = TestTokens.newUserId();
    AtomicReference<String> replyId = new AtomicReference<>();
    AtomicReference<NodeScenario> node = new AtomicReference<>();
    Future.all(store.createSession(alice, null, "alice's"), store.createSession(bob, null, "bob's"))
        .compose(all -> {
          ChatSession sa = all.resultAt(0);
          ChatSession sb = all.resultAt(1);
          JsonObject args = new JsonObject().put("url", url()).put("settleMs", 300)
              .put("awaitEvent", new JsonObject().put("client", "alice").put("event", "message.completed"))
              .put("clients", new JsonArray()
              .add(new JsonObject().put("name", "alice").put("token", TestTokens.token(vertx, alice))
                  .put("join", new JsonArray().add(sa.id())))
              .add(new JsonObject().put("name", "bob").put("token", TestTokens.token(vertx, bob))
                  .put("join", new JsonArray().add(sa.id()).add(sb.id()))));
          // once the reply is final, let the script stop listening
          vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
            MessageEvent e = MessageEvent.fromJson(m.body());
            if (e.type().equals(MessageEvent.COMPLETED) && e.message().id().equals(replyId.get())) {
              node.get().send("STOP");
            }
          });
          node.set(NodeScenario.start(vertx, "listen", args, ready -> store
              .sendMessage(alice, sa.id(), "What is in my report?", null)
              .compose(sent -> {
                replyId.set(sent.reply().id());
                return store.renameSession(alice, sa.id(), "renamed");
              })
              .compose(s -> store.createSession(alice, null, "second"))
              .onFailure(ctx::failNow)));
          return node.get().result().map(r -> new Object[] {r, sa});
        })
        .compose(pair -> store.getMessage(alice, ((ChatSession) pair[1]).id(), replyId.get())
            .map(stored -> new Object[] {pair[0], pair[1], stored}))
        .onComplete(ctx.succeeding(triple -> ctx.verify(() -> {
          JsonObject r = (JsonObject) triple[0];
          ChatSession sa = (ChatSession) triple[1];
          ChatMessage stored = (ChatMessage) triple[2];
          JsonObject a = r.getJsonArray("clients").getJsonObject(0);
          JsonObject b = r.getJsonArray("clients").getJsonObject(1);

          assertThat(a.getJsonObject("joins").getJsonObject(sa.id()).getBoolean("ok")).isTrue();
          assertThat(a.getJsonObject("joins").getJsonObject(sa.id()).getJsonObject("session").getString("id")).isEqualTo(sa.id());
          JsonObject refused = b.getJsonObject("joins").getJsonObject(sa.id());
          assertThat(refused.getBoolean("ok")).isFalse();
          assertThat(refused.getJsonObject("error").getString("code")).isEqualTo("NOT_FOUND");
          assertThat(b.getInteger("eventCount")).as("bob receives nothing of alice's").isZero();

          List<String> names = eventNames(a);
          assertThat(names).contains("message.created", "message.processing", "message.delta", "message.completed",
              "session.updated", "session.created");
          assertThat(names.indexOf("message.created")).isLessThan(names.indexOf("message.delta"));
          assertThat(names.lastIndexOf("message.delta")).isLessThan(names.indexOf("message.completed"));
          assertThat(stored.status()).isEqualTo(MessageStatus.COMPLETED);
          assertThat(a.getJsonArray("violations")).isEmpty();
          assertThat(a.getJsonObject("texts").getString(stored.id())).isEqualTo(stored.content());
          assertThat(a.getJsonObject("completed").getJsonObject(stored.id()).getString("content")).isEqualTo(stored.content());
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("200 clients in one session room all receive every event, in order and gap-free")
  void twoHundredClients(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    int deltas = 50;
    store.createSession(userId, null, "crowd").compose(session -> {
      String messageId = TestTokens.newUserId();
      JsonObject args = new JsonObject().put("url", url()).put("token", TestTokens.token(vertx, userId))
          .put("clients", 200).put("sessionId", session.id()).put("expect", deltas + 2);
      long[] publishedAt = new long[1];
      return NodeScenario.start(vertx, "room", args, ready -> {
        publishedAt[0] = System.currentTimeMillis();
        publishReply(vertx, userId, session.id(), messageId, deltas);
      }).result().map(r -> r.put("messageId", messageId).put("expectedText", expectedText(deltas)));
    }).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      log.info("200 clients: connected+joined in {} ms, all {} events delivered to all in {} ms",
          r.getLong("connectedMs"), deltas + 2, r.getLong("deliveredMs"));
      assertThat(r.getBoolean("timedOut")).isFalse();
      assertThat(r.getJsonArray("counts")).hasSize(200).allSatisfy(c -> assertThat(c).isEqualTo(deltas + 2));
      assertThat(r.getInteger("violations")).isZero();
      assertThat(r.getJsonArray("distinctTextHashes")).containsExactly(NodeScenario.sha256(r.getString("expectedText")));
      ctx.completeNow();
    })));
  }

  private static String expectedText(int deltas) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < deltas; i++) {
      sb.append("chunk-").append(i).append(" é🙂 ");
    }
    return sb.toString();
  }

  /** A reply as the worker and persistence publish it: processing, deltas, completed. */
  private static void publishReply(Vertx vertx, String userId, String sessionId, String messageId, int deltas) {
    Instant now = Instant.now();
    ChatMessage processing = new ChatMessage(messageId, sessionId, userId, MessageType.AI_REPORT, "",
        MessageStatus.PROCESSING, null, null, null, null, null, null, 1, null, now, now);
    vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
        new MessageEvent(MessageEvent.PROCESSING, userId, sessionId, processing).toJson());
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < deltas; i++) {
      String chunk = "chunk-" + i + " é🙂 ";
      vertx.eventBus().publish(Addresses.EVENTS_DELTA,
          new DeltaEvent(userId, sessionId, messageId, i + 1, text.length(), chunk).toJson());
      text.append(chunk);
    }
    ChatMessage done = new ChatMessage(messageId, sessionId, userId, MessageType.AI_REPORT, text.toString(),
        MessageStatus.COMPLETED, null, null, "test", null, null, null, 1, null, now, Instant.now());
    vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
        new MessageEvent(MessageEvent.COMPLETED, userId, sessionId, done).toJson());
  }
}
