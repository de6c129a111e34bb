package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.HeadlessChromium;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frontend's path end to end in a real browser: headless Chromium loads a page from its own origin
 * (an in-test HTTP server, like a frontend dev server or CDN) that uses the official socket.io-client v4
 * browser bundle with its default options, the REST API over {@code fetch} (CORS via
 * {@code http.cors_origins}) and the gateway on its own port (CORS via {@code gateway.cors_origins}).
 * The page ({@code src/test/resources/browser/chat.js}) follows docs/events.md. Skipped when Chromium or
 * chromedriver is not installed ({@code .ci/run} installs them).
 */
@ExtendWith(VertxExtension.class)
@EnabledIf(value = "com.aichat.testing.HeadlessChromium#installed",
    disabledReason = "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
@DisplayName("A real browser (headless Chromium) with the socket.io-client v4 bundle")
class BrowserStreamingTest {

  private static final Logger log = LoggerFactory.getLogger(BrowserStreamingTest.class);

  private static final Path BUNDLE = Path.of("src/test/js/node_modules/socket.io-client/dist/socket.io.min.js");
  private static final long RESULT_TIMEOUT_MS = 20_000;

  @TempDir
  static Path dir;

  private static HeadlessChromium chromium;
  private static HttpServer pageServer;
  private static TestApp app;
  /** Held while its request runs (Vert.x 5 closes an unreachable client, evicting its connections). */
  private WebClient http;
  private static String pageOrigin;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    if (!Files.isRegularFile(BUNDLE)) {
      throw new IllegalStateException("socket.io-client is not installed: run `npm ci` in src/test/js (mvn verify does)");
    }
    int pagePort = TestApp.freePort();
    pageOrigin = "http://127.0.0.1:" + pagePort;
    // What an operator does for a frontend served from its own origin: allow it on both ports.
    JsonObject origins = new JsonObject().put("cors_origins", new JsonArray().add(pageOrigin));
    JsonObject overrides = new JsonObject().put("http", origins.copy()).put("gateway", origins.copy());

    Files.createDirectories(dir.resolve("chromium"));
    chromium = HeadlessChromium.launch(vertx, dir.resolve("chromium"));
    Future.all(
            TestApp.start(vertx, dir.resolve("data"), overrides).onSuccess(a -> app = a),
            startPageServer(vertx, pagePort).onSuccess(s -> pageServer = s),
            chromium.open())
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Serves the page and the unchanged socket.io-client bundle, from an origin of its own. */
  private static Future<HttpServer> startPageServer(Vertx vertx, int port) {
    Router router = Router.router(vertx);
    router.get("/socket.io.min.js").handler(rc -> rc.response()
        .putHeader("Content-Type", "text/javascript; charset=utf-8")
        .sendFile(BUNDLE.toAbsolutePath().toString()));
    router.route().handler(StaticHandler.create("browser").setCachingEnabled(false));
    return vertx.createHttpServer().requestHandler(router).listen(port, "127.0.0.1");
  }

  @AfterAll
  static void stop() throws Exception {
    // runs even when the setup or a test failed: no browser or driver process may outlive the class
    Future<Void> browser = chromium == null ? Future.succeededFuture() : chromium.close();
    Future<Void> page = pageServer == null ? Future.succeededFuture() : pageServer.close();
    Future.join(browser, page).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** A fresh page load each time (a new query string: a fragment-only change would not reload it). */
  private String pageUrl(String mode, String token) {
    return pageOrigin + "/chat.html?load=" + UUID.randomUUID() + "#mode=" + mode
        + "&api=" + enc("http://127.0.0.1:" + app.httpPort())
        + "&gateway=" + enc("http://127.0.0.1:" + app.gatewayPort())
        + "&token=" + enc(token);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Console entries at WARNING or above, as "source: message". */
  private static List<String> problems(JsonArray console) {
    return console.stream()
        .map(JsonObject.class::cast)
        .filter(e -> !"INFO".equals(e.getString("level")) && !"DEBUG".equals(e.getString("level")))
        .map(e -> e.getString("level") + " " + e.getString("source") + ": " + e.getString("message"))
        .toList();
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("The page creates a session and sends a message with fetch, joins over Socket.IO, upgrades to websocket and assembles the stored reply from the deltas")
  void streamsAReplyIntoThePage(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    long t0 = System.currentTimeMillis();
    chromium.consoleLog() // drop what an earlier page left
        .compose(stale -> chromium.navigate(pageUrl("stream", token)))
        .compose(v -> chromium.awaitObject("window.__result", RESULT_TIMEOUT_MS))
        .compose(result -> {
          log.info("browser result after {} ms: {}", System.currentTimeMillis() - t0, result.copy().put("assembled", "…"));
          if (!result.getBoolean("ok")) {
            return Future.failedFuture(new AssertionError("page failed: " + result.encode()));
          }
          String path = "/chats/" + result.getString("sessionId") + "/messages/" + result.getString("replyId");
          return Future.all(
                  (http = WebClient.create(vertx)).get(app.httpPort(), "127.0.0.1", path).bearerTokenAuthentication(token).send(),
                  chromium.consoleLog())
              .map(all -> new JsonObject()
                  .put("page", result)
                  .put("stored", all.<io.vertx.ext.web.client.HttpResponse<?>>resultAt(0).bodyAsJsonObject())
                  .put("console", all.<JsonArray>resultAt(1)));
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject page = r.getJsonObject("page");
          JsonObject stored = r.getJsonObject("stored");
          JsonObject completed = page.getJsonObject("completed");

          assertThat(stored.getString("status")).isEqualTo("completed");
          assertThat(stored.getString("content")).isNotBlank();
          assertThat(page.getString("assembled")).as("text assembled from the deltas").isEqualTo(stored.getString("content"));
          assertThat(completed.getString("id")).isEqualTo(page.getString("replyId"));
          assertThat(completed.getString("content")).isEqualTo(stored.getString("content"));
          assertThat(page.getInteger("deltas")).isGreaterThan(1);
          assertThat(page.getJsonArray("violations")).as("deltas off the offset rule").isEmpty();
          assertThat(page.getJsonArray("events").getList()).containsSubsequence(
              "message.created:user", "message.created:ai_report", "message.processing", "message.delta",
              "message.completed");
          assertThat(page.getJsonArray("joinAcks").getJsonObject(0).getBoolean("ok")).isTrue();

          assertThat(page.getString("transportAtOpen")).as("the engine opens with long-polling").isEqualTo("polling");
          assertThat(page.getJsonArray("upgrades").getList()).as("engine upgrades").containsExactly("websocket");
          assertThat(page.getString("transportFinal")).isEqualTo("websocket");

          assertThat(page.getJsonArray("pageErrors")).as("uncaught errors in the page").isEmpty();
          assertThat(problems(r.getJsonArray("console"))).as("browser console").isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A page with a token signed by another key gets one connect_error with the reason and code, and the client does not retry")
  void refusesABadToken(Vertx vertx, VertxTestContext ctx) {
    String forged = TestTokens.token(vertx, "another-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        new JsonObject().put("sub", TestTokens.newUserId()), 3600);
    chromium.consoleLog() // drop what an earlier page left
        .compose(stale -> chromium.navigate(pageUrl("connect", forged)))
        .compose(v -> chromium.awaitObject("window.__result", RESULT_TIMEOUT_MS))
        .compose(result -> chromium.consoleLog().map(console -> new JsonObject().put("page", result).put("console", console)))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject page = r.getJsonObject("page");
          log.info("browser result: {} console: {}", page, r.getJsonArray("console"));
          assertThat(page.getBoolean("ok")).as(page.encode()).isTrue();
          assertThat(page.getJsonArray("errors")).hasSize(1);
          JsonObject err = page.getJsonArray("errors").getJsonObject(0);
          assertThat(err.getString("message")).isEqualTo("invalid signature");
          assertThat(err.getJsonObject("data").getString("code")).isEqualTo("UNAUTHENTICATED");
          assertThat(page.getBoolean("active")).as("client still trying to connect").isFalse();
          assertThat(page.getBoolean("connected")).isFalse();
          assertThat(page.getJsonArray("pageErrors")).isEmpty();
          // Known, and harmless once connect_error has arrived: the gateway cuts a refused session off
          // after a grace period, and the client's requests of that (established) session may then
          // (1) end with ERR_EMPTY_RESPONSE (a pending long-poll cut), (2) be refused by netty-socketio
          // with a bare HTTP 500 that carries no CORS header ("<sid> is not registered"), which Chromium
          // reports as a CORS error plus ERR_FAILED, or (3) be a websocket upgrade probe the client
          // aborts itself. Only requests that carry the session id may show up; anything else (a
          // handshake refused by CORS, a script error) fails the test.
          String session = "127\\.0\\.0\\.1:" + app.gatewayPort()
              + "/socket\\.io/\\?EIO=4&transport=(polling|websocket)&[^ ']*sid=[0-9a-f-]{36}";
          List<String> tolerated = List.of(
              "(?s)SEVERE network: http://" + session + " - Failed to load resource: net::(ERR_EMPTY_RESPONSE|ERR_FAILED)",
              "(?s)SEVERE javascript: .* - Access to XMLHttpRequest at 'http://" + session
                  + "' from origin '" + pageOrigin + "' has been blocked by CORS policy: .*",
              "(?s)WARNING network: .*WebSocket connection to 'ws://" + session
                  + "' failed: WebSocket is closed before the connection is established\\.");
          assertThat(problems(r.getJsonArray("console")))
              .as("browser console")
              .allMatch(p -> tolerated.stream().anyMatch(p::matches));
          ctx.completeNow();
        })));
  }
}
