package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Joins racing a live stream, across a change of worker. The workers are played by the test on the
 * bus with the worker's real contract (deltas on {@code chat.events.delta}, text so far on
 * {@code chat.ai.progress.<id>}), so that the timing is controlled; persistence is the real one.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Resume under races: joins at any moment of a stream that changes worker")
class GatewayResumeRaceTest {

  private TestApp app;
  private ChatStore store;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    // 30 sockets of one user join at once
    JsonObject noWorkers = new JsonObject().put("verticles", new JsonObject().put("worker", 0).put("dispatcher", 0))
        .put("gateway", new JsonObject().put("max_sockets_per_user", 50).put("event_burst", 1000));
    TestApp.start(vertx, dir, noWorkers).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  /** One streaming attempt: publishes deltas and answers progress like the AI worker does. */
  private static final class FakeWorker {
    private final Vertx vertx;
    private final ChatMessage reply;
    private final int attempt;
    private final StringBuilder text = new StringBuilder();
    private long seq;
    private MessageConsumer<JsonObject> progress;

    FakeWorker(Vertx vertx, ChatMessage reply, int attempt) {
      this.vertx = vertx;
      this.reply = reply;
      this.attempt = attempt;
    }

    void claim() {
      progress = vertx.eventBus().consumer(Addresses.aiProgress(reply.id()), m -> m.reply(new JsonObject()
          .put("messageId", reply.id()).put("seq", seq).put("offset", 0).put("text", text.toString())
          .put("attempt", attempt)));
      ChatMessage processing = withStatus(MessageStatus.PROCESSING, "", attempt);
      vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
          new MessageEvent(MessageEvent.PROCESSING, reply.userId(), reply.sessionId(), processing).toJson());
    }

    void delta(String chunk) {
      DeltaEvent d = new DeltaEvent(reply.userId(), reply.sessionId(), reply.id(), ++seq, text.length(), chunk);
      text.append(chunk);
      vertx.eventBus().publish(Addresses.EVENTS_DELTA, d.toJson());
    }

    void die() {
      progress.unregister();
    }

    String complete() {
      progress.unregister();
      ChatMessage done = withStatus(MessageStatus.COMPLETED, text.toString(), attempt);
      vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
          new MessageEvent(MessageEvent.COMPLETED, reply.userId(), reply.sessionId(), done).toJson());
      return text.toString();
    }

    private ChatMessage withStatus(MessageStatus status, String content, int attempts) {
      return new ChatMessage(reply.id(), reply.sessionId(), reply.userId(), reply.messageType(), content, status,
          reply.replyTo(), null, "fake", null, null, null, attempts, null, reply.createdAt(), Instant.now());
    }
  }

  /**
   * Worker A streams 140 deltas and dies; worker B claims attempt 2, restarts, and completes after at
   * least 220 deltas and once every client has joined ({@code allJoined}): a socket that joins after
   * the final event gets an empty snapshot and no final event (nothing is active any more), which the
   * product does not promise otherwise. Under load the last joins came after the end of a fixed-length
   * stream, and that client timed out waiting for message.completed.
   */
  private static void stream(Vertx vertx, ChatMessage reply, String[] finalText, BooleanSupplier allJoined) {
    FakeWorker a = new FakeWorker(vertx, reply, 1);
    FakeWorker b = new FakeWorker(vertx, reply, 2);
    a.claim();
    int[] tick = {0};
    vertx.setPeriodic(8, id -> {
      int t = tick[0]++;
      if (t < 140) {
        a.delta("a" + t + "-é🙂 ");
      } else if (t == 140) {
        a.die();
        b.claim();
      } else if (t < 360 || !allJoined.getAsBoolean()) {
        b.delta("b" + t + " ");
      } else {
        vertx.cancelTimer(id);
        finalText[0] = b.complete();
      }
    });
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("30 clients joining throughout a stream whose first worker dies and a second restarts it all assemble exactly the final text")
  void joinsRacingAWorkerChange(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    store.createSession(userId, null, "race")
        .compose(session -> store.sendMessage(userId, session.id(), "go", null))
        .compose(sent -> {
          ChatMessage reply = sent.reply();
          JsonArray delays = new JsonArray();
          for (int i = 0; i < 30; i++) {
            delays.add(i * 60);
          }
          JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + app.gatewayPort())
              .put("token", TestTokens.token(vertx, userId)).put("sessionId", reply.sessionId())
              .put("messageId", reply.id()).put("delays", delays);
          String[] finalText = new String[1];
          // READY lines are handed to a Vert.x context each, not necessarily the stream's
          AtomicInteger joined = new AtomicInteger();
          return NodeScenario.start(vertx, "joiners", args, ready -> {
                if (ready.containsKey("joined")) {
                  joined.incrementAndGet();
                } else {
                  stream(vertx, reply, finalText, () -> joined.get() == delays.size());
                }
              }).result()
              .map(r -> r.put("finalText", finalText[0]));
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          String expected = r.getString("finalText");
          assertThat(expected).startsWith("b141 ").doesNotContain("a1");
          JsonArray clients = r.getJsonArray("clients");
          assertThat(clients).hasSize(30);
          long resumedMidStream = clients.stream().filter(o -> ((JsonObject) o).getInteger("snapshotLength") > 0).count();
          assertThat(resumedMidStream).as("some clients joined with text already generated").isPositive();
          for (Object o : clients) {
            JsonObject c = (JsonObject) o;
            assertThat(c.getInteger("violations")).isZero();
            assertThat(c.getString("text")).isEqualTo(expected);
          }
          ctx.completeNow();
        })));
  }
}
