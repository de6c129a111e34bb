package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionEvent;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(VertxExtension.class)
@DisplayName("The gateway's transports with the official socket.io-client v4")
class GatewayTransportTest {

  private static final Logger log = LoggerFactory.getLogger(GatewayTransportTest.class);

  private TestApp app;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    TestApp.start(vertx, dir, new JsonObject().put("gateway",
        // many sockets of one user join at once here; the per-user event budget has its own tests
        new JsonObject().put("event_burst", 1000))).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  private String url() {
    return "http://127.0.0.1:" + app.gatewayPort();
  }

  /** Publishes the session.updated broadcast each round of the script waits for. */
  private static void broadcastRound(Vertx vertx, String userId, JsonObject ready) {
    int round = ready.getInteger("i");
    String sessionId = TestTokens.newUserId();
    ChatSession s = new ChatSession(sessionId, userId, null, "round " + round, Instant.now(), Instant.now(), null, 0);
    vertx.eventBus().publish(Addresses.EVENTS_SESSION,
        new SessionEvent(SessionEvent.UPDATED, userId, sessionId, s).toJson());
  }

  @Test
  @Timeout(value = 150, timeUnit = TimeUnit.SECONDS)
  @DisplayName("100 sequential sessions with the default transports (polling, then upgrade) all connect, upgrade, ack and receive a broadcast")
  void defaultTransportsAreReliable(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    JsonObject args = new JsonObject().put("url", url()).put("token", TestTokens.token(vertx, userId)).put("count", 100);
    NodeScenario.start(vertx, "sessions", args, ready -> broadcastRound(vertx, userId, ready))
        .result()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          log.info("100 default-transport sessions: {} failures, {} upgraded, {} ms",
              r.getJsonArray("failures").size(), r.getInteger("upgraded"), r.getLong("ms"));
          assertThat(r.getJsonArray("failures")).isEqualTo(new JsonArray());
          assertThat(r.getInteger("upgraded")).isEqualTo(100);
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("Sessions over the websocket transport only connect, ack and receive a broadcast")
  void websocketTransportWorks(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    JsonObject args = new JsonObject().put("url", url()).put("token", TestTokens.token(vertx, userId))
        .put("count", 20).put("transports", new JsonArray().add("websocket"));
    NodeScenario.start(vertx, "sessions", args, ready -> broadcastRound(vertx, userId, ready))
        .result()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.getJsonArray("failures")).isEqualTo(new JsonArray());
          assertThat(r.getInteger("count")).isEqualTo(20);
          ctx.completeNow();
        })));
  }
}
