package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(VertxExtension.class)
@DisplayName("Back-pressure: a stalled client is cut off, the others are not slowed")
class GatewayBackpressureTest {

  private static final Logger log = LoggerFactory.getLogger(GatewayBackpressureTest.class);
  private static final int DELTAS = 800;
  private static final int CHUNK = 16 * 1024;

  private TestApp app;
  private ChatStore store;
  /**
   * Held for the test's length: Vert.x 5 closes a client (and evicts its connections) once it is no
   * longer reachable, so a client used inline can lose its connection mid-handshake after a GC.
   */
  private WebSocketClient wsClient;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    store = ChatStore.client(vertx);
    // small enough that the stalled client is cut within the flood, large enough (32 deltas of 16 KiB)
    // that the healthy client, briefly descheduled on a loaded machine, is not (at 64 KiB it once was)
    JsonObject small = new JsonObject().put("gateway", new JsonObject().put("write_buffer_high_bytes", 512 * 1024));
    TestApp.start(vertx, dir, small).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  /** A raw engine.io client that authenticates, joins, then stops reading (its socket stays open). */
  private Future<WebSocket> stalledClient(Vertx vertx, String token, String sessionId, AtomicInteger frames) {
    Promise<WebSocket> joined = Promise.promise();
    // a small receive window, so that the kernel does not absorb the flood on the stalled client's behalf
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setReceiveBufferSize(65536));
    return wsClient
        .connect(app.gatewayPort(), "127.0.0.1", "/socket.io/?EIO=4&transport=websocket")
        .compose(ws -> {
          ws.textMessageHandler(f -> {
            frames.incrementAndGet();
            if (f.startsWith("0{")) {
              ws.writeTextMessage("40" + new JsonObject().put("token", token).encode());
            } else if (f.startsWith("40{")) {
              ws.writeTextMessage("420[\"join\",{\"sessionId\":\"" + sessionId + "\"}]");
            } else if (f.startsWith("430[{\"ok\":true")) {
              ws.pause();
              joined.tryComplete(ws);
            }
          });
          return joined.future();
        });
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("While a joined client stops reading, a healthy client receives all 12.8 MB of deltas in order and the stalled one is disconnected")
  void stalledClientIsDisconnected(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    AtomicInteger stalledFrames = new AtomicInteger();
    AtomicBoolean stalledClosed = new AtomicBoolean();
    String chunk = "x".repeat(CHUNK - 1) + "|";
    store.createSession(userId, null, "flood")
        .compose(session -> stalledClient(vertx, token, session.id(), stalledFrames)
            .compose(stalled -> {
              stalled.closeHandler(v -> stalledClosed.set(true));
              JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + app.gatewayPort())
                  .put("token", token).put("clients", 1).put("sessionId", session.id()).put("expect", DELTAS + 2);
              return NodeScenario.start(vertx, "room", args,
                      ready -> flood(vertx, userId, session.id(), TestTokens.newUserId(), chunk))
                  .result()
                  .compose(r -> {
                    // let the stalled client read again: it must find its connection closed
                    stalled.resume();
                    Promise<JsonObject> closed = Promise.promise();
                    vertx.setPeriodic(50, id -> {
                      if (stalledClosed.get()) {
                        vertx.cancelTimer(id);
                        closed.tryComplete(r);
                      }
                    });
                    vertx.setTimer(10_000, id -> closed.tryFail("the stalled client was never disconnected"));
                    return closed.future();
                  });
            }))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          log.info("healthy client got {} events in {} ms; the stalled client got {} frames before the cut",
              r.getJsonArray("counts").getInteger(0), r.getLong("deliveredMs"), stalledFrames.get());
          assertThat(r.getBoolean("timedOut")).isFalse();
          assertThat(r.getJsonArray("counts").getInteger(0)).isEqualTo(DELTAS + 2);
          assertThat(r.getInteger("violations")).isZero();
          assertThat(r.getJsonArray("distinctTextHashes")).containsExactly(NodeScenario.sha256(chunk.repeat(DELTAS)));
          assertThat(stalledFrames.get()).isLessThan(DELTAS);
          ctx.completeNow();
        })));
  }

  private static void flood(Vertx vertx, String userId, String sessionId, String messageId, String chunk) {
    Instant now = Instant.now();
    ChatMessage processing = new ChatMessage(messageId, sessionId, userId, MessageType.AI_REPORT, "",
        MessageStatus.PROCESSING, null, null, null, null, null, null, 1, null, now, now);
    vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
        new MessageEvent(MessageEvent.PROCESSING, userId, sessionId, processing).toJson());
    // paced like a fast worker (one delta every 2 ms), not one synchronous burst
    int[] next = {0};
    vertx.setPeriodic(2, id -> {
      int i = next[0]++;
      if (i < DELTAS) {
        vertx.eventBus().publish(Addresses.EVENTS_DELTA,
            new DeltaEvent(userId, sessionId, messageId, i + 1, (long) i * chunk.length(), chunk).toJson());
        return;
      }
      vertx.cancelTimer(id);
      ChatMessage done = new ChatMessage(messageId, sessionId, userId, MessageType.AI_REPORT,
          chunk.repeat(DELTAS), MessageStatus.COMPLETED, null, null, "test", null, null, null, 1, null, now, Instant.now());
      vertx.eventBus().publish(Addresses.EVENTS_MESSAGE,
          new MessageEvent(MessageEvent.COMPLETED, userId, sessionId, done).toJson());
    });
  }
}
