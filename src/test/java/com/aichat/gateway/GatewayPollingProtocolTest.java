package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Issue 10 findings 9 and 12 (part), and log injection, at the engine.io long-polling level: raw
 * HTTP requests, as a hostile client would send them. Runs on the JUnit thread (blocking client).
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Gateway long-polling protocol: one CONNECT per payload, no token or forged line in the logs")
class GatewayPollingProtocolTest {

  private static final String SEP = "\u001e";
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private TestApp app;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir) throws Exception {
    app = TestApp.start(vertx, dir).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    logs.start();
    root().addAppender(logs);
  }

  @AfterEach
  void detach() {
    root().detachAppender(logs);
  }

  private static Logger root() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  /** A client per request: a new connection each time, as the gateway may close one after answering. */
  private static HttpClient http() {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  private String base() {
    return "http://127.0.0.1:" + app.gatewayPort();
  }

  private HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http().send(HttpRequest.newBuilder(URI.create(base() + pathAndQuery)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String pathAndQuery, String body) throws Exception {
    return http().send(HttpRequest.newBuilder(URI.create(base() + pathAndQuery)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "text/plain;charset=UTF-8")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** An engine.io polling session: its sid. */
  private String openPolling() throws Exception {
    HttpResponse<String> open = get("/socket.io/?EIO=4&transport=polling");
    assertThat(open.statusCode()).isEqualTo(200);
    assertThat(open.body()).startsWith("0{");
    return new JsonObject(open.body().substring(1)).getString("sid");
  }

  /** Every packet the server sends the session until it closes it (or {@code polls} polls). */
  private List<String> pollAll(String sid, int polls) {
    List<String> packets = new ArrayList<>();
    for (int i = 0; i < polls; i++) {
      try {
        HttpResponse<String> r = get("/socket.io/?EIO=4&transport=polling&sid=" + sid);
        if (r.statusCode() != 200) {
          break;
        }
        packets.addAll(Arrays.asList(r.body().split(SEP)));
        if (packets.stream().anyMatch(p -> p.equals("1") || p.startsWith("41"))) {
          break; // engine.io close / socket.io disconnect
        }
      } catch (Exception e) {
        break; // the server closed the session
      }
    }
    return packets;
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A second CONNECT in one polling payload is dropped: a refused client never gets a connect ack")
  void secondConnectInOnePayloadIsDropped(Vertx vertx) throws Exception {
    String sid = openPolling();
    HttpResponse<String> sent = post("/socket.io/?EIO=4&transport=polling&sid=" + sid,
        "40{\"token\":\"not-a-jwt\"}" + SEP + "40" + SEP + "40{}");
    assertThat(sent.statusCode()).isEqualTo(200);
    List<String> packets = pollAll(sid, 4);
    assertThat(packets).as("the refusal of the first CONNECT").anyMatch(p -> p.startsWith("44"));
    assertThat(packets).as("no connect ack for the others").noneMatch(p -> p.startsWith("40"));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A valid CONNECT followed by a second one in the same payload is acknowledged exactly once")
  void validConnectAcknowledgedOnce(Vertx vertx) throws Exception {
    String sid = openPolling();
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    post("/socket.io/?EIO=4&transport=polling&sid=" + sid,
        "40{\"token\":\"" + token + "\"}" + SEP + "40{\"token\":\"" + token + "\"}");
    List<String> packets = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 1500;
    while (System.currentTimeMillis() < deadline && packets.stream().noneMatch(p -> p.startsWith("40"))) {
      packets.addAll(pollAll(sid, 1));
    }
    // one more poll after a pause: a second ack (if any) would be queued by now; the server pings at 25 s
    post("/socket.io/?EIO=4&transport=polling&sid=" + sid, "421[\"leave\",{\"sessionId\":\"x\"}]");
    packets.addAll(pollAll(sid, 1));
    assertThat(packets.stream().filter(p -> p.startsWith("40")).count()).isEqualTo(1);
    assertThat(packets).anyMatch(p -> p.startsWith("431"));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("Requests with a token in the URL that netty-socketio would log in full, and a packet with a newline, leave no token and no forged line in the log")
  void noTokenOrForgedLineInLogs(Vertx vertx) throws Exception {
    String secret = TestTokens.token(vertx, TestTokens.newUserId());
    assertThat(get("/socket.io/?EIO=4&token=" + secret).statusCode()).isEqualTo(400);
    assertThat(get("/socket.io/?EIO=4&transport=carrier-pigeon&token=" + secret).statusCode()).isEqualTo(400);
    assertThat(get("/socket.io/elsewhere?EIO=4&transport=polling&token=" + secret).statusCode()).isEqualTo(400);
    assertThat(get("/other?token=" + secret).statusCode()).isEqualTo(400);

    for (String malformed : List.of("42[\"join\",{\"x\":1}\n12:00:00.000 ERROR FORGED line]",
        "4\r\nFORGED-2\u001b[31m", "42[\"join\n\",{}]", "40{\"token\":\"a\nFORGED-3\"}")) {
      String sid = openPolling();
      try {
        post("/socket.io/?EIO=4&transport=polling&sid=" + sid, malformed);
      } catch (java.io.IOException e) {
        // the gateway may close a connection whose input it cannot decode
      }
    }
    Thread.sleep(500);

    List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).noneMatch(l -> l.contains(secret)).noneMatch(l -> l.contains(secret.substring(0, 20)));
    assertThat(lines).noneMatch(l -> l.contains("\n") || l.contains("\r") || l.contains("\u001b"));
  }
}
