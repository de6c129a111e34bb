package com.aichat.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one scenario of {@code src/test/js/scenarios.js} with node and the real socket.io-client v4
 * (installed by {@code npm ci} in the {@code process-test-resources} phase). The script reports
 * {@code READY <json>} when the test may act and {@code RESULT <json>} at the end.
 */
public final class NodeScenario {

  private static final Logger log = LoggerFactory.getLogger(NodeScenario.class);
  static final Path JS_DIR = Path.of("src/test/js");

  private final Process process;
  private final Promise<JsonObject> result = Promise.promise();

  private NodeScenario(Process process) {
    this.process = process;
  }

  /** Starts the scenario; {@code onReady} runs on a Vert.x context for every READY line. */
  public static NodeScenario start(Vertx vertx, String scenario, JsonObject args, Consumer<JsonObject> onReady) {
    return run(vertx, scenario, onReady, "scenarios.js", scenario, args.encode());
  }

  /** Runs another script of {@code src/test/js} with one JSON argument (e.g. {@code fuzz.js}). */
  public static NodeScenario script(Vertx vertx, String script, JsonObject args) {
    return run(vertx, script, ready -> { }, script, args.encode());
  }

  private static NodeScenario run(Vertx vertx, String scenario, Consumer<JsonObject> onReady, String... command) {
    if (!Files.isDirectory(JS_DIR.resolve("node_modules/socket.io-client"))) {
      throw new IllegalStateException("socket.io-client is not installed: run `npm ci` in src/test/js (mvn verify does)");
    }
    Process p;
    try {
      java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("node"));
      cmd.addAll(java.util.List.of(command));
      p = new ProcessBuilder(cmd)
          .directory(JS_DIR.toFile())
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run node", e);
    }
    NodeScenario s = new NodeScenario(p);
    Thread reader = new Thread(() -> s.read(vertx, onReady), "node-" + scenario);
    reader.setDaemon(true);
    reader.start();
    return s;
  }

  private void read(Vertx vertx, Consumer<JsonObject> onReady) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.startsWith("READY ")) {
          JsonObject ready = new JsonObject(line.substring(6));
          vertx.runOnContext(v -> onReady.accept(ready));
        } else if (line.startsWith("RESULT ")) {
          JsonObject r = new JsonObject(line.substring(7));
          if (r.getBoolean("ok")) {
            result.tryComplete(r.getJsonObject("value"));
          } else {
            result.tryFail("node scenario failed: " + r.getString("error"));
          }
        } else {
          log.info("node: {}", line);
        }
      }
      result.tryFail("node exited without a result");
    } catch (IOException | RuntimeException e) {
      result.tryFail(e);
    }
  }

  /** Hex SHA-256 of the UTF-8 bytes of {@code text}, as the scenarios report long texts. */
  public static String sha256(String text) {
    try {
      return java.util.HexFormat.of().formatHex(
          java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Sends one command line to the script's stdin. */
  public void send(String command) {
    try {
      OutputStream os = process.getOutputStream();
      os.write((command + "\n").getBytes(StandardCharsets.UTF_8));
      os.flush();
    } catch (IOException e) {
      result.tryFail(e);
    }
  }

  public Future<JsonObject> result() {
    return result.future().onComplete(ar -> process.destroy());
  }
}
