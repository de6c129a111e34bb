package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared plumbing of the benchmarks (main classes, not tests; see {@code docs/benchmarks.md}): the real
 * service started in-process by {@link GenerationHarness} (TestApp + the Claude provider pointed at the
 * in-test {@link FakeAnthropicServer}), an HTTP client for loopback requests, percentiles, and a bounded
 * run that exits with 0 (PASS) or 1 (FAIL).
 */
final class Bench {

  private static final Logger log = LoggerFactory.getLogger(Bench.class);

  private Bench() {}

  /**
   * Service settings for measuring: the shipped worker cadence (deltas every 50 ms, checkpoints every
   * second, as conf/config.json has them, and its dispatch sweep/grace), Claude timeouts loose enough for long streams, no practical
   * rate limit (loopback load from one user per loop), and {@code backend} as the embedded store.
   */
  static JsonObject overrides(String backend) {
    JsonObject defaults = com.aichat.testing.TestApp.defaults();
    JsonObject worker = defaults.getJsonObject("worker").copy().put("lease_ms", 30_000);
    return new JsonObject()
        .put("mongo", new JsonObject().put("embedded_backend", backend))
        .put("worker", worker)
        .put("dispatch", defaults.getJsonObject("dispatch").copy())
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000))
        // the fan-out benchmarks connect hundreds of sockets of one user
        .put("gateway", new JsonObject().put("max_sockets_per_user", 100_000)
            .put("event_rate_per_sec", 100_000).put("event_burst", 100_000))
        // load benchmarks queue many replies per user on purpose: no per-user pending cap
        .put("quota", new JsonObject().put("max_pending_replies", 0))
        .put("claude", new JsonObject()
            .put("first_event_timeout_ms", 10_000)
            .put("idle_timeout_ms", 10_000)
            .put("total_timeout_ms", 120_000));
  }

  /** Starts the service with {@link #overrides} plus {@code extra}. */
  static Future<GenerationHarness> start(Vertx vertx, String backend, JsonObject extra) {
    Path dir;
    try {
      dir = Files.createTempDirectory("chat-bench-");
    } catch (java.io.IOException e) {
      return Future.failedFuture(e);
    }
    removeOnExit(dir);
    JsonObject o = overrides(backend);
    if (extra != null) {
      o.mergeIn(extra, true);
    }
    return GenerationHarness.start(vertx, dir, o);
  }

  /** Deletes {@code dir} and everything in it when the JVM exits (a benchmark's store can be 100 MB). */
  static void removeOnExit(Path dir) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
        all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (java.io.IOException | RuntimeException e) {
        System.err.println("benchmark directory " + dir + " not removed: " + e);
      }
    }, "remove " + dir.getFileName()));
  }

  /**
   * A Vert.x built as {@code Main} builds a node's: Vert.x's own meters (HTTP, event bus, pools) in the
   * Prometheus registry that {@code /metrics} serves, shared with the domain and MongoDB command meters
   * ({@code Metrics.of(vertx).meters()}).
   */
  static Vertx meteredVertx() {
    try {
      Path dir = Files.createTempDirectory("chat-bench-vertx-");
      removeOnExit(dir);
      return com.aichat.Main.newVertx(com.aichat.AppConfig.from(com.aichat.testing.TestApp.config(dir, null)))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot build the metered Vert.x", e);
    }
  }

  /** Undeploys the service's verticles (last deployed first) and closes the fake: the next run starts clean. */
  static Future<Void> stop(Vertx vertx, GenerationHarness h) {
    List<String> ids = new ArrayList<>(h.app().deploymentIds());
    Collections.reverse(ids);
    Future<Void> chain = Future.succeededFuture();
    for (String id : ids) {
      chain = chain.compose(v -> vertx.undeploy(id).recover(err -> Future.succeededFuture()));
    }
    return chain.compose(v -> h.close());
  }

  static WebClient client(Vertx vertx, int connections) {
    return WebClient.wrap(vertx.createHttpClient(
        new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(connections)));
  }

  static String token(Vertx vertx, String userId) {
    return TestTokens.token(vertx, userId);
  }

  static Future<HttpResponse<JsonObject>> post(WebClient http, int port, String token, String path, JsonObject body) {
    return http.post(port, "127.0.0.1", path).bearerTokenAuthentication(token)
        .as(BodyCodec.jsonObject()).sendJsonObject(body);
  }

  static Future<HttpResponse<JsonObject>> get(WebClient http, int port, String token, String path) {
    return http.get(port, "127.0.0.1", path).bearerTokenAuthentication(token).as(BodyCodec.jsonObject()).send();
  }

  /** Creates a session over HTTP and answers its id. */
  static Future<String> newSession(WebClient http, int port, String token, String title) {
    return post(http, port, token, "/chats", new JsonObject().put("title", title)).map(r -> {
      if (r.statusCode() != 201) {
        throw new IllegalStateException("POST /chats answered " + r.statusCode() + " " + r.bodyAsString());
      }
      return r.body().getString("id");
    });
  }

  /** Sends a message over HTTP and answers the reply placeholder's id. */
  static Future<String> send(WebClient http, int port, String token, String sessionId, String text) {
    return post(http, port, token, "/chats/" + sessionId + "/messages", new JsonObject().put("content", text)).map(r -> {
      if (r.statusCode() != 202 && r.statusCode() != 201) {
        throw new IllegalStateException("POST messages answered " + r.statusCode() + " " + r.bodyAsString());
      }
      return r.body().getJsonObject("reply").getString("id");
    });
  }

  /** The {@code p}-th percentile (0..100, nearest rank) of {@code values}; 0 when empty. */
  static double percentile(List<? extends Number> values, double p) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Double> sorted = new ArrayList<>();
    values.forEach(v -> sorted.add(v.doubleValue()));
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  static double mean(List<? extends Number> values) {
    return values.stream().mapToDouble(Number::doubleValue).average().orElse(0);
  }

  /** Gaps between consecutive timestamps. */
  static List<Long> intervals(List<Long> times) {
    List<Long> out = new ArrayList<>();
    for (int i = 1; i < times.size(); i++) {
      out.add(times.get(i) - times.get(i - 1));
    }
    return out;
  }

  static String verdict(boolean pass) {
    return pass ? "PASS" : "FAIL";
  }

  /**
   * Runs {@code body} on a fresh Vert.x with a hard time limit, logs the outcome and exits the JVM:
   * 0 when the body answered true (every check passed), 1 otherwise.
   */
  static void run(String name, long limitSeconds, Function<Vertx, Future<Boolean>> body) {
    run(name, limitSeconds, Vertx.vertx(), body);
  }

  /** {@link #run(String, long, Function)} on {@code vertx}, e.g. one from {@link #meteredVertx()}. */
  static void run(String name, long limitSeconds, Vertx vertx, Function<Vertx, Future<Boolean>> body) {
    CompletableFuture<Boolean> outcome = new CompletableFuture<>();
    vertx.runOnContext(v -> body.apply(vertx).onComplete(ar -> {
      if (ar.failed()) {
        log.error("{} failed", name, ar.cause());
        outcome.complete(false);
      } else {
        outcome.complete(ar.result());
      }
    }));
    boolean pass;
    try {
      pass = outcome.get(limitSeconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      log.error("{}: did not finish within {} s", name, limitSeconds);
      pass = false;
    } catch (Exception e) {
      log.error("{} failed", name, e);
      pass = false;
    }
    log.info("{}: {}", name, verdict(pass));
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("vertx close: {}", e.toString());
    }
    System.exit(pass ? 0 : 1);
  }
}
