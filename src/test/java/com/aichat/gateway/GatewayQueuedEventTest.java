package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatSession;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.MessageEvent;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher's {@code message.queued} reaches the session room through the real gateway. */
@ExtendWith(VertxExtension.class)
@DisplayName("Gateway: message.queued is forwarded to the reply's session room")
class GatewayQueuedEventTest {

  private TestApp app;
  private ChatStore store;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    // no AI worker: every dispatched reply waits in the dispatcher's queue
    TestApp.start(vertx, dir, new JsonObject().put("verticles", new JsonObject().put("worker", 0)))
        .onComplete(ctx.succeeding(a -> {
          app = a;
          ctx.completeNow();
        }));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a socket in the session gets message.queued with the reply's id, position and queue size; another user's socket gets nothing")
  void queuedEventReachesTheSessionRoom(Vertx vertx, VertxTestContext ctx) {
    String alice = TestTokens.newUserId();
    String bob = TestTokens.newUserId();
    AtomicReference<String> replyId = new AtomicReference<>();
    AtomicReference<NodeScenario> node = new AtomicReference<>();
    AtomicReference<ChatSession> session = new AtomicReference<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
      if (MessageEvent.QUEUED.equals(m.body().getString("type"))
          && m.body().getString("messageId").equals(replyId.get())) {
        node.get().send("STOP");
      }
    });
    store.createSession(alice, null, "queued")
        .compose(sa -> {
          session.set(sa);
          JsonObject args = new JsonObject()
              .put("url", "http://127.0.0.1:" + app.gatewayPort())
              .put("settleMs", 200)
              .put("awaitEvent", new JsonObject().put("client", "alice").put("event", "message.queued"))
              .put("clients", new JsonArray()
                  .add(new JsonObject().put("name", "alice").put("token", TestTokens.token(vertx, alice))
                      .put("join", new JsonArray().add(sa.id())))
                  .add(new JsonObject().put("name", "bob").put("token", TestTokens.token(vertx, bob))));
          node.set(NodeScenario.start(vertx, "listen", args, ready -> store
              .sendMessage(alice, sa.id(), "Anyone there?", null)
              .compose(sent -> {
                replyId.set(sent.reply().id());
                // as the HTTP API dispatches it
                return vertx.eventBus().<JsonObject>request(Addresses.DISPATCH,
                    new DispatchRequest(sent.reply().id(), alice, sa.id()).toJson());
              })
              .onFailure(ctx::failNow)));
          return node.get().result();
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject a = r.getJsonArray("clients").getJsonObject(0);
          JsonObject b = r.getJsonArray("clients").getJsonObject(1);
          List<JsonObject> received = a.getJsonArray("received").stream().map(o -> (JsonObject) o).toList();
          List<String> names = received.stream().map(o -> o.getString("event")).toList();
          assertThat(names).contains("message.created", "message.queued");
          assertThat(names.lastIndexOf("message.created")).isLessThan(names.indexOf("message.queued"));
          JsonObject queued = received.get(names.indexOf("message.queued")).getJsonObject("payload");
          assertThat(queued.getString("messageId")).isEqualTo(replyId.get());
          assertThat(queued.getString("sessionId")).isEqualTo(session.get().id());
          assertThat(queued.getInteger("position")).isEqualTo(1);
          assertThat(queued.getInteger("queued")).isEqualTo(1);
          assertThat(names).doesNotContain("message.processing");
          assertThat(b.getInteger("eventCount")).as("bob receives nothing of alice's").isZero();
          ctx.completeNow();
        })));
  }
}
