package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionEvent;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Socket authentication at the gateway")
class GatewayAuthTest {

  private TestApp app;
  /** Held (Vert.x 5 closes an unreachable client, evicting its connections). */
  private io.vertx.core.http.WebSocketClient wsClient;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    TestApp.start(vertx, dir).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  private static String expiredToken(Vertx vertx, String userId) {
    long past = Instant.now().minusSeconds(600).getEpochSecond();
    return TestTokens.token(vertx, TestApp.TEST_SECRET, new JsonObject().put("sub", userId).put("exp", past), 0);
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A token is accepted from auth, query or Authorization header; bad, expired, foreign-signed or missing tokens get connect_error with a reason")
  void refusals(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String good = TestTokens.token(vertx, userId);
    String foreign = TestTokens.token(vertx, "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        new JsonObject().put("sub", userId), 3600);
    JsonArray cases = new JsonArray()
        .add(c("auth", "auth", good))
        .add(c("query", "query", good))
        .add(c("header", "header", good).put("transports", new JsonArray().add("websocket")))
        .add(c("missing", "none", null))
        .add(c("garbage", "auth", "not-a-jwt"))
        .add(c("expired", "auth", expiredToken(vertx, userId)))
        .add(c("foreign", "auth", foreign))
        .add(c("notObjectId", "auth", TestTokens.token(vertx, TestApp.TEST_SECRET, new JsonObject().put("sub", "alice"), 3600)));
    JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + app.gatewayPort()).put("cases", cases);
    NodeScenario.start(vertx, "refusals", args, ready -> { })
        .result()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          for (String ok : List.of("auth", "query", "header")) {
            assertThat(r.getJsonObject(ok).getBoolean("connected")).as(ok).isTrue();
          }
          for (String refused : List.of("missing", "garbage", "expired", "foreign", "notObjectId")) {
            JsonObject res = r.getJsonObject(refused);
            assertThat(res.getBoolean("connected")).as(refused).isFalse();
            assertThat(res.getString("message")).as(refused).isNotBlank().doesNotContain("timeout");
            assertThat(res.getJsonObject("data").getString("code")).as(refused).isEqualTo("UNAUTHENTICATED");
          }
          assertThat(r.getJsonObject("missing").getString("message")).isEqualTo("missing token");
          assertThat(r.getJsonObject("expired").getString("message")).contains("expired");
          ctx.completeNow();
        })));
  }

  private static JsonObject c(String name, String mode, String token) {
    return new JsonObject().put("name", name).put("mode", mode).put("token", token);
  }

  /** What a raw engine.io client saw: every frame, and when the server closed the connection. */
  private record RawOutcome(List<String> frames, long closedAfterMs) {}

  /**
   * A raw websocket engine.io client that sends {@code connectPacket} (or nothing), ignores any refusal,
   * then tries a join with an ack while events for {@code userId} are published.
   */
  private Future<RawOutcome> rawClient(Vertx vertx, String connectPacket, String userId) {
    List<String> frames = new CopyOnWriteArrayList<>();
    Promise<RawOutcome> outcome = Promise.promise();
    long started = System.currentTimeMillis();
    if (wsClient == null) {
      wsClient = vertx.createWebSocketClient();
    }
    // handlers are set before the connection exists: the open packet can arrive in the same read as the
    // handshake's answer, before a callback on the connect future would have run
    ClientWebSocket socket = wsClient.webSocket();
    socket.textMessageHandler(frames::add);
    socket.closeHandler(v -> outcome.tryComplete(new RawOutcome(frames, System.currentTimeMillis() - started)));
    return socket
        .connect(app.gatewayPort(), "127.0.0.1", "/socket.io/?EIO=4&transport=websocket")
        .compose(ws -> {
          if (connectPacket != null) {
            ws.writeTextMessage(connectPacket);
            vertx.setTimer(100, t -> ignoreRefusal(vertx, ws, userId));
          }
          vertx.setTimer(6_000, t -> outcome.tryFail("the gateway did not close the raw connection"));
          return outcome.future();
        });
  }

  private static void ignoreRefusal(Vertx vertx, WebSocket ws, String userId) {
    ws.writeTextMessage("420[\"join\",{\"sessionId\":\"" + TestTokens.newUserId() + "\"}]");
    ChatSession s = new ChatSession(TestTokens.newUserId(), userId, null, "secret", Instant.now(), Instant.now(), null, 0);
    vertx.eventBus().publish(Addresses.EVENTS_SESSION, new SessionEvent(SessionEvent.CREATED, userId, s.id(), s).toJson());
  }

  private static void assertNothingDelivered(RawOutcome o) {
    assertThat(o.frames()).isNotEmpty();
    assertThat(o.frames().get(0)).startsWith("0{");
    // only engine.io open/ping/noop, the refusal (44) and a disconnect (41): never an event (42) or ack (43)
    assertThat(o.frames()).allSatisfy(f -> assertThat(f).doesNotStartWith("42").doesNotStartWith("43").doesNotStartWith("40"));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A raw client that sends a CONNECT without auth is refused, receives no event or ack, and is cut off")
  void rawClientWithoutAuth(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    rawClient(vertx, "40", userId).onComplete(ctx.succeeding(o -> ctx.verify(() -> {
      assertNothingDelivered(o);
      assertThat(o.frames()).anySatisfy(f -> assertThat(f).startsWith("44").contains("missing token"));
      assertThat(o.closedAfterMs()).isLessThan(3_000);
      ctx.completeNow();
    })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A raw client that ignores the refusal of its expired token receives none of that user's events and is cut off")
  void rawClientIgnoringRefusal(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String connect = "40" + new JsonObject().put("token", expiredToken(vertx, userId)).encode();
    rawClient(vertx, connect, userId).onComplete(ctx.succeeding(o -> ctx.verify(() -> {
      assertNothingDelivered(o);
      assertThat(o.frames()).anySatisfy(f -> assertThat(f).startsWith("44").contains("expired"));
      assertThat(o.closedAfterMs()).isLessThan(3_000);
      ctx.completeNow();
    })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A raw client that never sends credentials is cut off after gateway.auth_timeout_ms")
  void rawClientSilent(Vertx vertx, VertxTestContext ctx) {
    rawClient(vertx, null, TestTokens.newUserId()).onComplete(ctx.succeeding(o -> ctx.verify(() -> {
      assertThat(o.frames()).allSatisfy(f -> assertThat(f).doesNotStartWith("42").doesNotStartWith("40"));
      assertThat(o.closedAfterMs()).isBetween(app.config().gateway().authTimeoutMs() - 200, 4_000L);
      ctx.completeNow();
    })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A socket is told auth.expired and disconnected by the server when its token expires")
  void disconnectAtExpiry(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestApp.TEST_SECRET, new JsonObject().put("sub", TestTokens.newUserId()), 2);
    JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + app.gatewayPort()).put("token", token);
    NodeScenario.start(vertx, "expiry", args, ready -> { })
        .result()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.getJsonObject("expired").getString("message")).isEqualTo("token expired");
          assertThat(r.getString("reason")).isEqualTo("io server disconnect");
          assertThat(r.getLong("afterMs")).isLessThan(3_500L);
          ctx.completeNow();
        })));
  }
}
