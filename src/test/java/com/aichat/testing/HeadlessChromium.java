package com.aichat.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real headless Chromium, driven over the W3C WebDriver HTTP protocol: {@code chromedriver} runs as a
 * child process on a free loopback port and the Vert.x WebClient talks to it ({@code POST /session},
 * {@code /url}, {@code /execute/sync}, {@code DELETE /session}). The browser console is read through
 * chromedriver's {@code goog:loggingPrefs} log ({@code POST /session/{id}/se/log}).
 *
 * <p>Each instance uses its own fresh profile directory; {@link #close()} ends the WebDriver session,
 * the driver and every process still running with that profile, so nothing is left behind even when
 * a test failed half-way.
 */
public final class HeadlessChromium {

  private static final Logger log = LoggerFactory.getLogger(HeadlessChromium.class);

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static final long CALL_TIMEOUT_MS = 10_000;
  private static final long DRIVER_START_TIMEOUT_MS = 10_000;
  private static final long POLL_INTERVAL_MS = 100;

  private final Vertx vertx;
  private final Process driver;
  private final Path profile;
  private final WebClient client;
  private final Thread shutdownHook;
  private volatile String sessionId;

  private HeadlessChromium(Vertx vertx, Process driver, Path profile, int port) {
    this.vertx = vertx;
    this.driver = driver;
    this.profile = profile;
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(false));
    this.shutdownHook = new Thread(this::kill, "chromium-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Whether Chromium and chromedriver are installed ({@code apt-get install chromium chromium-driver}). */
  public static boolean installed() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  /**
   * Starts chromedriver (blocking: call it from a test thread, not an event loop); its output goes to
   * {@code chromedriver.log} in {@code workDir}, the browser profile to {@code workDir/profile}.
   */
  public static HeadlessChromium launch(Vertx vertx, Path workDir) {
    int port = TestApp.freePort();
    Path profile = workDir.resolve("profile");
    try {
      Files.createDirectories(profile);
      Process p = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port, "--allowed-ips=127.0.0.1")
          .redirectErrorStream(true)
          .redirectOutput(workDir.resolve("chromedriver.log").toFile())
          .start();
      log.info("chromedriver pid {} on port {}", p.pid(), port);
      return new HeadlessChromium(vertx, p, profile, port);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start chromedriver", e);
    }
  }

  /** Waits for chromedriver to be ready, then opens a browser session. */
  public Future<HeadlessChromium> open() {
    long deadline = System.currentTimeMillis() + DRIVER_START_TIMEOUT_MS;
    return poll(() -> call(HttpMethod.GET, "/status", null)
            .map(v -> v.getBoolean("ready", false) ? v : null)
            .otherwise((JsonObject) null),
        deadline, "chromedriver did not get ready")
        .compose(v -> call(HttpMethod.POST, "/session", capabilities()))
        .map(v -> {
          sessionId = v.getString("sessionId");
          log.info("Chromium {} session {}", v.getJsonObject("capabilities").getString("browserVersion"), sessionId);
          return this;
        });
  }

  private JsonObject capabilities() {
    JsonArray args = new JsonArray()
        .add("--headless").add("--no-sandbox").add("--disable-gpu").add("--disable-background-networking")
        .add("--disable-quic").add("--no-first-run").add("--disable-component-update").add("--disable-sync")
        .add("--disable-dev-shm-usage").add("--user-data-dir=" + profile);
    JsonObject always = new JsonObject()
        .put("browserName", "chrome")
        .put("goog:loggingPrefs", new JsonObject().put("browser", "ALL"))
        .put("goog:chromeOptions", new JsonObject().put("binary", CHROMIUM.toString()).put("args", args));
    return new JsonObject().put("capabilities", new JsonObject().put("alwaysMatch", always));
  }

  /** Navigates to {@code url} and waits for the page load. */
  public Future<Void> navigate(String url) {
    return call(HttpMethod.POST, session("/url"), new JsonObject().put("url", url)).mapEmpty();
  }

  /** Reloads the current page and waits for the load, as the browser's reload button does. */
  public Future<Void> reload() {
    return call(HttpMethod.POST, session("/refresh"), new JsonObject()).mapEmpty();
  }

  /** Clicks the first element matching the CSS {@code selector}, as a user's mouse would. */
  public Future<Void> click(String selector) {
    return element(selector)
        .compose(id -> call(HttpMethod.POST, session("/element/" + id + "/click"), new JsonObject()))
        .mapEmpty();
  }

  /** Types {@code text} into the first element matching {@code selector} (key events; "\uE007" is Enter). */
  public Future<Void> type(String selector, String text) {
    return element(selector)
        .compose(id -> call(HttpMethod.POST, session("/element/" + id + "/value"), new JsonObject().put("text", text)))
        .mapEmpty();
  }

  /** Saves a PNG screenshot of the page to {@code file}. */
  public Future<Void> screenshot(Path file) {
    return client.request(HttpMethod.GET, session("/screenshot")).timeout(CALL_TIMEOUT_MS).send()
        .compose(r -> value(r, "/screenshot"))
        .compose(png -> vertx.fileSystem().mkdirs(file.toAbsolutePath().getParent().toString())
            .compose(v -> vertx.fileSystem().writeFile(file.toString(),
                Buffer.buffer(java.util.Base64.getDecoder().decode((String) png)))));
  }

  private Future<String> element(String selector) {
    return call(HttpMethod.POST, session("/element"),
            new JsonObject().put("using", "css selector").put("value", selector))
        .map(v -> v.getString("element-6066-11e4-a52e-4f735466cecf"));
  }

  /** Runs {@code script} (a function body, may {@code return}) in the page and gives its JSON value. */
  public Future<Object> execute(String script) {
    return client.request(HttpMethod.POST, session("/execute/sync"))
        .timeout(CALL_TIMEOUT_MS)
        .sendJsonObject(new JsonObject().put("script", script).put("args", new JsonArray()))
        .compose(r -> value(r, "/execute/sync"));
  }

  /** Evaluates {@code expression} every 100 ms until it is a JSON object, for at most {@code timeoutMs}. */
  public Future<JsonObject> awaitObject(String expression, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    return poll(() -> execute("return " + expression + ";")
            .map(v -> v instanceof JsonObject o ? o : null),
        deadline, "no value in the page for " + expression);
  }

  /** The browser console and network log since the last call (chromedriver clears it on read). */
  public Future<JsonArray> consoleLog() {
    return call(HttpMethod.POST, session("/se/log"), new JsonObject().put("type", "browser"))
        .map(v -> (JsonArray) v.getValue("list"));
  }

  /** Ends the browser session, then the driver and anything left with this profile. */
  public Future<Void> close() {
    Future<Void> quit = sessionId == null
        ? Future.succeededFuture()
        : client.request(HttpMethod.DELETE, "/session/" + sessionId).timeout(CALL_TIMEOUT_MS).send()
            .<Void>mapEmpty()
            .recover(err -> {
              log.warn("closing the WebDriver session failed: {}", err.toString());
              return Future.succeededFuture();
            });
    return quit
        .eventually(() -> vertx.executeBlocking(() -> {
          client.close();
          kill();
          return null;
        }));
  }

  /** Kills chromedriver and every process still using this instance's profile (blocking). */
  private void kill() {
    List<ProcessHandle> children = driver.descendants().toList();
    // after DELETE /session the browser is quitting: let chromedriver reap it before it goes itself
    children.forEach(HeadlessChromium::awaitExit);
    driver.destroy();
    try {
      if (!driver.waitFor(3, TimeUnit.SECONDS)) {
        driver.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      driver.destroyForcibly();
    }
    children.forEach(ProcessHandle::destroyForcibly);
    String marker = profile.toString();
    ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
        .forEach(p -> {
          log.info("killing leftover browser process {}", p.pid());
          p.destroyForcibly();
        });
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // called from the hook itself
    }
  }

  private static void awaitExit(ProcessHandle p) {
    try {
      p.onExit().get(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("browser process {} still running after the session ended", p.pid());
    }
  }

  private String session(String path) {
    if (sessionId == null) {
      throw new IllegalStateException("no browser session");
    }
    return "/session/" + sessionId + path;
  }

  private Future<JsonObject> call(HttpMethod method, String path, JsonObject body) {
    var request = client.request(method, path).timeout(CALL_TIMEOUT_MS);
    Future<HttpResponse<Buffer>> sent = body == null ? request.send() : request.sendJsonObject(body);
    return sent.compose(r -> value(r, path)).map(v -> v instanceof JsonArray a
        ? new JsonObject().put("list", a)
        : (JsonObject) v);
  }

  /** The {@code value} of a WebDriver answer, or a failure with the driver's error and message. */
  private static Future<Object> value(HttpResponse<Buffer> r, String path) {
    JsonObject json = r.bodyAsJsonObject();
    Object value = json == null ? null : json.getValue("value");
    if (r.statusCode() != 200) {
      JsonObject err = value instanceof JsonObject o ? o : new JsonObject();
      return Future.failedFuture(new IllegalStateException("WebDriver " + path + " -> HTTP " + r.statusCode()
          + " " + err.getString("error") + ": " + err.getString("message")));
    }
    return Future.succeededFuture(value);
  }

  /** Retries {@code attempt} every 100 ms while it yields null, until {@code deadline}. */
  private <T> Future<T> poll(Supplier<Future<T>> attempt, long deadline, String failure) {
    return attempt.get().compose(v -> {
      if (v != null) {
        return Future.succeededFuture(v);
      }
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(new IllegalStateException(failure));
      }
      return vertx.timer(POLL_INTERVAL_MS).compose(t -> poll(attempt, deadline, failure));
    });
  }
}
