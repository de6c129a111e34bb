package com.aichat.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.HeadlessChromium;
import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * The reference web client as a user meets it: headless Chromium opens the page the service serves at
 * {@code /} on the embedded default (the generated dev secret, so the one-click dev sign-in is there),
 * and WebDriver clicks and types. The offline model streams slowly enough here to stop a reply, reload
 * the page and drop the connection in the middle of one. Screenshots go to
 * {@code target/webclient-screenshots/}; the browser console must stay clean. Skipped when Chromium or
 * chromedriver is not installed ({@code .ci/run} installs them).
 */
@ExtendWith(VertxExtension.class)
@EnabledIf(value = "com.aichat.testing.HeadlessChromium#installed",
    disabledReason = "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
@DisplayName("The reference web client in a real browser (headless Chromium)")
class WebClientBrowserTest {

  private static final Logger log = LoggerFactory.getLogger(WebClientBrowserTest.class);
  private static final Path SHOTS = Path.of("target/webclient-screenshots");
  private static final long WAIT_MS = 20_000;
  /** WebDriver key codes. */
  private static final String ENTER = "\uE007";
  private static final String SELECT_ALL = "\uE009a\uE000";

  @TempDir
  static Path dir;

  private static HeadlessChromium chromium;
  private static TestApp app;
  private static WebClient http;
  private static String base;

  @BeforeAll
  static void start(Vertx vertx) throws Exception {
    // The embedded default's auth (no secret configured: the generated dev secret) and a slow offline
    // model: about 150 chunks of 4 characters, 40 ms apart, so a reply streams for several seconds.
    JsonObject overrides = new JsonObject()
        .put("auth", new JsonObject().put("hs256_secret", ""))
        .put("offline", new JsonObject().put("chunk_chars", 4).put("chunk_delay_ms", 40));
    Files.createDirectories(dir.resolve("chromium"));
    chromium = HeadlessChromium.launch(vertx, dir.resolve("chromium"));
    Future.all(TestApp.start(vertx, dir.resolve("data"), overrides).onSuccess(a -> app = a), chromium.open())
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(app.config().auth().usesDevSecret()).isTrue();
    base = "http://127.0.0.1:" + app.httpPort();
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() throws Exception {
    Future<Void> browser = chromium == null ? Future.succeededFuture() : chromium.close();
    browser.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** Console entries at WARNING or above, as "LEVEL source: message". */
  private static List<String> problems(JsonArray console) {
    return console.stream()
        .map(JsonObject.class::cast)
        .filter(e -> !"INFO".equals(e.getString("level")) && !"DEBUG".equals(e.getString("level")))
        .map(e -> e.getString("level") + " " + e.getString("source") + ": " + e.getString("message"))
        .toList();
  }

  /** On a failed step: a screenshot, the page's state and its console in the log, then the failure. */
  private static Future<JsonArray> explainFailure(Throwable err) {
    return shot("failure")
        .compose(v -> js("JSON.stringify({ body: document.body.innerText, debug: window.__chat?.debug })"))
        .compose(page -> chromium.consoleLog().map(console -> {
          log.error("step failed: {}\npage: {}\nconsole: {}", err.toString(), page, console);
          return console;
        }))
        .transform(ignored -> Future.failedFuture(err));
  }

  /** Waits until the JavaScript {@code condition} holds in the page. */
  private static Future<Void> until(String condition) {
    return chromium.awaitObject("((" + condition + ") ? {} : null)", WAIT_MS).mapEmpty();
  }

  private static Future<Object> js(String expression) {
    return chromium.execute("return " + expression + ";");
  }

  private static Future<Void> shot(String name) {
    return chromium.screenshot(SHOTS.resolve(name + ".png"));
  }

  /** The assistant message the page shows last: its id, status and text. */
  private static final String LAST_REPLY = "(() => { const el = [...document.querySelectorAll('#messages .msg.assistant')].pop();"
      + " if (!el) return null; const m = window.__chat.state.messages.get(el.dataset.id);"
      + " return { id: el.dataset.id, status: m.status, content: m.content, shown: el.querySelector('.body').textContent }; })()";

  private static Future<JsonObject> lastReply() {
    return chromium.awaitObject(LAST_REPLY, WAIT_MS);
  }

  private static Future<JsonObject> stored(String token, String sessionId, String messageId) {
    return http.getAbs(base + "/chats/" + sessionId + "/messages/" + messageId).bearerTokenAuthentication(token).send()
        .map(HttpResponse::bodyAsJsonObject);
  }

  /** The completion record the page kept: the text it assembled from snapshot + deltas vs the stored content. */
  private static Future<JsonObject> completion(String replyId) {
    return chromium.awaitObject("window.__chat.debug.completions.find(c => c.id === '" + replyId + "') ?? null", WAIT_MS);
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("Dev sign-in, create and rename a chat, watch a reply stream, stop one, reload mid-reply and resume, survive a dropped connection, delete the chat; the console stays clean")
  void aUserChats(Vertx vertx, VertxTestContext ctx) {
    JsonObject seen = new JsonObject();
    List<Integer> growth = new ArrayList<>();
    chromium.consoleLog()
        // clear storage on a same-origin page that runs no app code: the app, signed in from an earlier
        // test, could store its token again after the clear
        .compose(stale -> chromium.navigate(base + "/app/config.json"))
        .compose(v -> js("localStorage.clear()"))
        .compose(v -> chromium.navigate(base + "/?run=" + UUID.randomUUID()))
        .compose(v -> until("!document.getElementById('signin').hidden && !document.getElementById('dev-signin').hidden"))
        .compose(v -> shot("01-sign-in"))
        // one click: a token for a new user
        .compose(v -> chromium.click("#dev-signin"))
        .compose(v -> until("document.getElementById('connection').dataset.state === 'connected'"))
        .compose(v -> js("localStorage.getItem('chat-service.token')")).map(t -> seen.put("token", (String) t))
        .compose(v -> chromium.click("#new-chat"))
        .compose(v -> until("document.querySelectorAll('#sessions li').length === 1 && location.hash.startsWith('#/chats/')"))
        .compose(v -> js("location.hash.substring(8)")).map(id -> seen.put("sessionId", (String) id))
        // rename inline
        .compose(v -> chromium.click("#sessions li .rename"))
        .compose(v -> chromium.type(".rename-input", SELECT_ALL + "Trip to Lisbon" + ENTER))
        .compose(v -> until("document.querySelector('#sessions li .open')?.textContent === 'Trip to Lisbon'"
            + " && document.getElementById('title').textContent === 'Trip to Lisbon'"))
        .compose(v -> http.getAbs(base + "/chats/" + seen.getString("sessionId"))
            .bearerTokenAuthentication(seen.getString("token")).send())
        .map(r -> seen.put("renamed", r.bodyAsJsonObject().getString("title")))
        // send, and watch the reply grow
        .compose(v -> chromium.type("#input", "Plan **three** days in Lisbon" + ENTER))
        .compose(v -> until("(" + LAST_REPLY + ")?.shown.length > 40"))
        .compose(v -> lastReply()).map(r -> growth.add(r.getString("shown").length()))
        .compose(v -> shot("02-streaming"))
        .compose(v -> vertx.timer(400))
        .compose(v -> lastReply()).map(r -> growth.add(r.getString("shown").length()))
        .compose(v -> until("(" + LAST_REPLY + ")?.status === 'completed'"))
        .compose(v -> lastReply()).map(r -> seen.put("first", r))
        .compose(v -> completion(seen.getJsonObject("first").getString("id"))).map(c -> seen.put("firstCompletion", c))
        .compose(v -> shot("03-completed"))
        // stop a reply in the middle
        .compose(v -> chromium.type("#input", "And what about Porto?" + ENTER))
        .compose(v -> until("(" + LAST_REPLY + ")?.id !== '" + seen.getJsonObject("first").getString("id")
            + "' && (" + LAST_REPLY + ")?.shown.length > 20 && document.querySelector('.msg.status-processing .stop')"))
        .compose(v -> chromium.click(".msg.status-processing .stop"))
        .compose(v -> until("(" + LAST_REPLY + ")?.status === 'cancelled'"))
        .compose(v -> lastReply()).map(r -> seen.put("stopped", r))
        .compose(v -> shot("04-stopped"))
        .compose(v -> stored(seen.getString("token"), seen.getString("sessionId"), seen.getJsonObject("stopped").getString("id")))
        .map(m -> seen.put("stoppedStored", m))
        // reload in the middle of a reply: it resumes where it was
        .compose(v -> chromium.type("#input", "Compare both cities" + ENTER))
        .compose(v -> until("(" + LAST_REPLY + ")?.status === 'processing' && (" + LAST_REPLY + ")?.id !== '"
            + seen.getJsonObject("stopped").getString("id") + "' && (" + LAST_REPLY + ")?.shown.length > 30"))
        .compose(v -> lastReply()).map(r -> seen.put("beforeReload", r))
        .compose(v -> chromium.reload())
        .compose(v -> until("window.__chat.debug.resumes.length > 0"))
        .compose(v -> shot("05-resumed-after-reload"))
        .compose(v -> js("window.__chat.debug.resumes")).map(r -> seen.put("resumes", (JsonArray) r))
        .compose(v -> completion(seen.getJsonObject("beforeReload").getString("id"))).map(c -> seen.put("resumedCompletion", c))
        .compose(v -> stored(seen.getString("token"), seen.getString("sessionId"), seen.getJsonObject("beforeReload").getString("id")))
        .map(m -> seen.put("resumedStored", m))
        // the connection drops mid-reply: "Reconnecting…", then the reply goes on with no gap
        .compose(v -> chromium.type("#input", "One more time" + ENTER))
        .compose(v -> until("(" + LAST_REPLY + ")?.status === 'processing' && (" + LAST_REPLY + ")?.id !== '"
            + seen.getJsonObject("beforeReload").getString("id") + "' && (" + LAST_REPLY + ")?.shown.length > 30"))
        .compose(v -> lastReply()).map(r -> seen.put("beforeDrop", r))
        .compose(v -> js("window.__chat.state.socket.dropConnection()"))
        .compose(v -> until("document.getElementById('connection').textContent === 'Reconnecting…'"))
        .compose(v -> shot("06-reconnecting"))
        .compose(v -> until("document.getElementById('connection').dataset.state === 'connected'"))
        .compose(v -> completion(seen.getJsonObject("beforeDrop").getString("id"))).map(c -> seen.put("droppedCompletion", c))
        .compose(v -> js("window.__chat.debug")).map(d -> seen.put("debug", (JsonObject) d))
        // delete the chat
        .compose(v -> chromium.click("#sessions li .delete"))
        .compose(v -> chromium.click("#sessions li .confirm-delete"))
        .compose(v -> until("document.querySelectorAll('#sessions li').length === 0 && location.hash === ''"))
        .compose(v -> shot("07-deleted"))
        .compose(v -> http.getAbs(base + "/chats/" + seen.getString("sessionId"))
            .bearerTokenAuthentication(seen.getString("token")).send())
        .map(r -> seen.put("afterDelete", r.statusCode()))
        .compose(v -> chromium.consoleLog())
        .recover(WebClientBrowserTest::explainFailure)
        .onComplete(ctx.succeeding(console -> ctx.verify(() -> {
          log.info("web client run: {}", seen.encode().length() > 4000 ? seen.encode().substring(0, 4000) : seen.encode());
          assertThat(seen.getString("renamed")).isEqualTo("Trip to Lisbon");
          assertThat(growth.get(1)).as("the reply grows while it streams").isGreaterThan(growth.get(0));
          JsonObject first = seen.getJsonObject("firstCompletion");
          assertThat(first.getString("assembled")).as("text from the deltas").isEqualTo(first.getString("content"));
          assertThat(seen.getJsonObject("first").getString("shown")).contains("Plan three days in Lisbon");

          JsonObject stopped = seen.getJsonObject("stoppedStored");
          assertThat(stopped.getString("status")).isEqualTo("cancelled");
          assertThat(seen.getJsonObject("stopped").getString("content")).isEqualTo(stopped.getString("content"));

          JsonObject resume = seen.getJsonArray("resumes").getJsonObject(0);
          assertThat(resume.getString("messageId")).isEqualTo(seen.getJsonObject("beforeReload").getString("id"));
          assertThat(resume.getInteger("length")).as("the snapshot holds at least what the page showed before the reload")
              .isGreaterThanOrEqualTo(seen.getJsonObject("beforeReload").getString("content").length());
          JsonObject resumed = seen.getJsonObject("resumedCompletion");
          assertThat(resumed.getString("assembled")).as("snapshot + deltas after the reload: no gap, no duplicate")
              .isEqualTo(resumed.getString("content"))
              .isEqualTo(seen.getJsonObject("resumedStored").getString("content"));

          JsonObject dropped = seen.getJsonObject("droppedCompletion");
          assertThat(dropped.getString("assembled")).as("resumed after a dropped connection").isEqualTo(dropped.getString("content"));
          JsonObject debug = seen.getJsonObject("debug");
          assertThat(debug.getJsonArray("connectionStates").getList()).containsSubsequence("connected", "reconnecting", "connected");
          assertThat(debug.getJsonArray("violations")).as("deltas off the offset rule").isEmpty();
          assertThat(debug.getJsonArray("errors")).as("errors the page showed").isEmpty();

          assertThat(seen.getInteger("afterDelete")).isEqualTo(404);
          assertThat(problems(console)).as("browser console").isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("HTML in a message and in the model's reply renders as text: no element, no script, no javascript: link")
  void modelOutputCannotInjectHtml(Vertx vertx, VertxTestContext ctx) {
    String attack = "<img src=x onerror=\"window.__pwned=1\"> <script>window.__pwned=2</script> **bold** [x](javascript:window.__pwned=3)";
    String inMessages = "document.querySelectorAll('#messages img, #messages script, #messages a[href^=\"javascript\"], #messages [onerror]').length";
    JsonObject seen = new JsonObject();
    chromium.consoleLog()
        .compose(stale -> chromium.navigate(base + "/?run=" + UUID.randomUUID()))
        .compose(v -> until("!document.getElementById('signin').hidden || document.getElementById('connection').dataset.state === 'connected'"))
        .compose(v -> js("document.getElementById('signin').hidden"))
        .compose(signedIn -> Boolean.TRUE.equals(signedIn) ? Future.succeededFuture() : chromium.click("#dev-signin"))
        .compose(v -> until("document.getElementById('connection').dataset.state === 'connected'"))
        .compose(v -> chromium.click("#new-chat"))
        .compose(v -> until("location.hash.startsWith('#/chats/')"))
        .compose(v -> chromium.type("#input", attack + ENTER))
        // the offline model quotes the question in its reply: model output with the same HTML
        .compose(v -> until("(" + LAST_REPLY + ")?.status === 'completed'"))
        .compose(v -> lastReply()).map(r -> seen.put("reply", r))
        .compose(v -> shot("10-html-as-text"))
        .compose(v -> js("{ user: document.querySelector('#messages .msg.user .body').textContent,"
            + " strong: document.querySelectorAll('#messages .msg.user .body strong').length,"
            + " injected: " + inMessages + ", pwned: window.__pwned ?? null }"))
        .map(r -> seen.put("page", (JsonObject) r))
        .compose(v -> chromium.click("#sessions li.current .delete"))
        .compose(v -> chromium.click("#sessions li .confirm-delete"))
        .compose(v -> until("location.hash === ''"))
        .compose(v -> chromium.consoleLog())
        .recover(WebClientBrowserTest::explainFailure)
        .onComplete(ctx.succeeding(console -> ctx.verify(() -> {
          JsonObject page = seen.getJsonObject("page");
          log.info("injection check: {}", seen.encode());
          assertThat(seen.getJsonObject("reply").getString("content")).as("the model's output").contains("<img src=x onerror=");
          assertThat(seen.getJsonObject("reply").getString("shown")).contains("<img src=x onerror=\"window.__pwned=1\">");
          assertThat(page.getString("user")).contains("<img src=x onerror=\"window.__pwned=1\">", "<script>window.__pwned=2</script>",
              "[x](javascript:window.__pwned=3)");
          assertThat(page.getInteger("strong")).as("Markdown still applies").isEqualTo(1);
          assertThat(page.getInteger("injected")).as("elements created from the text").isZero();
          assertThat(page.getValue("pwned")).isNull();
          assertThat(problems(console)).as("browser console").isEmpty();
          ctx.completeNow();
        })));
  }
}
