package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ErrorCode;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The socket half of the fuzzer ({@code src/test/js/fuzz.js}, the real socket.io-client v4): bad
 * handshake tokens of every type, and {@code join}/{@code leave}/unknown events with generated
 * payloads (wrong types, operator objects, odd and case-varied ids, huge and deeply nested values,
 * binary attachments, extra arguments). Every ack must be {@code {ok:true}} or an error with a code
 * that {@code docs/events.md} documents; a well-behaved client still joins afterwards, and the store
 * holds nothing new.
 */
@ExtendWith(VertxExtension.class)
class SocketFuzzTest {

  @TempDir Path dataDir;

  @Test
  @DisplayName("Malformed handshakes and socket events get documented error acks, never a hang or a stack trace")
  @Timeout(value = 4, timeUnit = TimeUnit.MINUTES)
  void malformedSocketEventsGetDocumentedErrorAcks(Vertx vertx, VertxTestContext ctx) throws IOException {
    String events = Files.readString(Path.of("docs/events.md"));
    JsonArray codes = new JsonArray();
    for (ErrorCode c : ErrorCode.values()) {
      if (events.contains(c.name())) {
        codes.add(c.name());
      }
    }
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    String otherToken = TestTokens.token(vertx, TestTokens.newUserId());
    JsonObject overrides = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0).put("dispatcher", 0))
        // the limiter has its own tests (GatewayAbuseTest); here every payload should reach validation
        .put("gateway", new JsonObject().put("event_rate_per_sec", 10_000).put("event_burst", 10_000));
    TestApp.start(vertx, dataDir, overrides).compose(app -> {
      WebClient web = WebClient.create(vertx);
      String base = "http://127.0.0.1:" + app.httpPort();
      return web.postAbs(base + "/chats").bearerTokenAuthentication(token).sendJsonObject(new JsonObject())
          .compose(own -> web.postAbs(base + "/chats").bearerTokenAuthentication(otherToken)
              .sendJsonObject(new JsonObject())
              .compose(other -> NodeScenario.script(vertx, "fuzz.js", new JsonObject()
                      .put("url", "http://127.0.0.1:" + app.gatewayPort())
                      .put("token", token)
                      .put("own", own.bodyAsJsonObject().getString("id"))
                      .put("other", other.bodyAsJsonObject().getString("id"))
                      .put("codes", codes)
                      .put("seed", 20261202)
                      .put("rounds", 600)
                      .put("pauseMs", 20))
                  .result()))
          .compose(result -> web.getAbs(base + "/chats").bearerTokenAuthentication(token).send()
              .map(list -> result.put("sessionsAfter", list.bodyAsJsonObject().getJsonArray("items").size())));
    }).onComplete(ctx.succeeding(result -> ctx.verify(() -> {
      String report = "socket fuzz: " + result.getInteger("tried") + " inputs; outcomes " + result.getJsonObject("outcomes");
      System.out.println(report);
      Files.writeString(Path.of("target/socket-fuzz-report.txt"), report + "\n");
      assertThat(result.getJsonArray("violations")).as(report).isEmpty();
      assertThat(result.getInteger("tried")).isGreaterThan(500);
      assertThat(result.getJsonObject("outcomes").getInteger("ok", 0)).as("some events were valid").isPositive();
      assertThat(result.getInteger("sessionsAfter")).as("socket events store nothing").isEqualTo(1);
      ctx.completeNow();
    })));
  }
}
