package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST API load on loopback: {@value #CONNECTIONS} concurrent request loops for {@value #SECONDS} s each
 * against {@code GET /chats/:id/messages} (a session of {@value #HISTORY} messages, default page) and then
 * {@code POST /chats}; requests/s, latency percentiles and non-2xx answers. The load generator shares the
 * JVM (and the 2 cores) with the service.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.RestBenchmark [-Dbench.backend=h2]}
 */
public final class RestBenchmark {

  private static final Logger log = LoggerFactory.getLogger(RestBenchmark.class);
  static final int CONNECTIONS = 32;
  static final long SECONDS = 10;
  static final int HISTORY = 40;

  record Load(String name, int ok, int errors, double seconds, List<Long> micros) {}

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    Bench.run("RestBenchmark[" + backend + "]", 60, vertx -> run(vertx, backend));
  }

  private static Future<Boolean> run(Vertx vertx, String backend) {
    return Bench.start(vertx, backend, null).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(List.of("short", " answer"), 1));
      WebClient http = Bench.client(vertx, CONNECTIONS);
      int port = h.app().httpPort();
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      List<Load> loads = new ArrayList<>();
      return Bench.newSession(http, port, token, "history")
          .compose(sessionId -> fill(h, http, port, token, sessionId, 0).map(v -> sessionId))
          .compose(sessionId -> load(vertx, "GET /chats/:id/messages",
              () -> Bench.get(http, port, token, "/chats/" + sessionId + "/messages"), 200))
          .compose(l -> {
            loads.add(l);
            return load(vertx, "POST /chats",
                () -> Bench.post(http, port, token, "/chats", new JsonObject().put("title", "bench")), 201);
          })
          .map(l -> {
            loads.add(l);
            return report(backend, loads);
          })
          .eventually(() -> h.close());
    });
  }

  /** HISTORY/2 user messages, each with its completed reply. */
  private static Future<Void> fill(GenerationHarness h, WebClient http, int port, String token, String sessionId, int i) {
    if (i == HISTORY / 2) {
      return Future.succeededFuture();
    }
    return Bench.send(http, port, token, sessionId, "filler " + i)
        .compose(h::finalReply)
        .compose(m -> fill(h, http, port, token, sessionId, i + 1));
  }

  private static Future<Load> load(Vertx vertx, String name, Supplier<Future<HttpResponse<JsonObject>>> request,
      int expectedStatus) {
    List<Long> micros = new CopyOnWriteArrayList<>();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    long t0 = System.nanoTime();
    long end = t0 + SECONDS * 1_000_000_000L;
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < CONNECTIONS; c++) {
      loops.add(loop(request, expectedStatus, end, micros, ok, errors));
    }
    return Future.all(loops).map(v -> new Load(name, ok.get(), errors.get(), (System.nanoTime() - t0) / 1e9, micros));
  }

  private static Future<Void> loop(Supplier<Future<HttpResponse<JsonObject>>> request, int expectedStatus, long end,
      List<Long> micros, AtomicInteger ok, AtomicInteger errors) {
    if (System.nanoTime() >= end) {
      return Future.succeededFuture();
    }
    long start = System.nanoTime();
    return request.get()
        .map(r -> r.statusCode() == expectedStatus)
        .otherwise(false)
        .compose(good -> {
          micros.add((System.nanoTime() - start) / 1000);
          (good ? ok : errors).incrementAndGet();
          return loop(request, expectedStatus, end, micros, ok, errors);
        });
  }

  private static boolean report(String backend, List<Load> loads) {
    log.info("backend={} connections={} duration={} s each; history={} messages", backend, CONNECTIONS, SECONDS,
        HISTORY);
    log.info(String.format("%-26s %8s %8s %9s %8s %8s %8s %8s", "endpoint", "ok", "errors", "req/s", "p50 ms",
        "p95 ms", "p99 ms", "max ms"));
    boolean pass = true;
    for (Load l : loads) {
      boolean good = l.errors() == 0 && l.ok() > 0;
      log.info(String.format("%-26s %8d %8d %9.0f %8.1f %8.1f %8.1f %8.1f %s", l.name(), l.ok(), l.errors(),
          (l.ok() + l.errors()) / l.seconds(), Bench.percentile(l.micros(), 50) / 1000,
          Bench.percentile(l.micros(), 95) / 1000, Bench.percentile(l.micros(), 99) / 1000,
          Bench.percentile(l.micros(), 100) / 1000, Bench.verdict(good)));
      pass &= good;
    }
    log.info("criteria: no issue gives a REST number; PASS means every request answered its success status");
    return pass;
  }
}
