package com.aichat.bench;

import com.aichat.Main;
import com.aichat.AppConfig;
import com.aichat.config.ClusterSettings;
import com.aichat.config.ClusterSetup;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the cluster-wide rate limit costs per request: three Vert.x nodes in one Hazelcast cluster in
 * this JVM (loopback TCP-IP): node P runs persistence only; node L the API with {@code limits.scope:
 * node} (the per-process count alone); node C the API with {@code limits.scope: cluster} (the per-process
 * count, then one entry processor on the {@code chat.limits.rate} map, whose partitions the three
 * members share, with one synchronous backup). Both API nodes reach persistence over the clustered
 * event bus, so the only difference is the limit check. {@code GET /chats} of {@value #USERS} users in
 * turn (so the windows spread over partitions), with the limit high enough never to refuse:
 * {@value #ROUNDS} alternating rounds of {@value #SEQUENTIAL} sequential requests per node (latency),
 * then {@value #SECONDS} s of {@value #CONNECTIONS} concurrent loops per node (throughput). The load
 * generator shares the JVM and the 2 cores.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.ClusterLimitBenchmark}. PASS when no request failed and every one
 * was admitted (the figures themselves have no target).
 */
public final class ClusterLimitBenchmark {

  private static final Logger log = LoggerFactory.getLogger(ClusterLimitBenchmark.class);
  static final int USERS = 100;
  static final int ROUNDS = 4;
  static final int SEQUENTIAL = 500;
  static final int CONNECTIONS = 16;
  static final long SECONDS = 10;

  record Sample(List<Long> micros, int errors, double seconds) {}

  public static void main(String[] args) {
    Bench.run("ClusterLimitBenchmark", 300, ClusterLimitBenchmark::run);
  }

  private static Future<Boolean> run(Vertx vertx) {
    String cluster = "chat-bench-" + UUID.randomUUID();
    List<Vertx> nodes = new ArrayList<>();
    int[] ports = new int[2];
    return node(cluster, nodes, roles(1, 0), "cluster")
        .compose(p -> node(cluster, nodes, roles(0, 1), "node"))
        .compose(p -> {
          ports[0] = p;
          return node(cluster, nodes, roles(0, 1), "cluster");
        })
        .compose(p -> {
          ports[1] = p;
          return measure(vertx, ports[0], ports[1]);
        })
        .eventually(() -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = nodes.size() - 1; i >= 0; i--) {
            Vertx n = nodes.get(i);
            chain = chain.eventually(n::close);
          }
          return chain;
        });
  }

  private static JsonObject roles(int persistence, int api) {
    return new JsonObject().put("persistence", persistence).put("api", api)
        .put("dispatcher", 0).put("worker", 0).put("gateway", 0);
  }

  private static Future<Integer> node(String cluster, List<Vertx> nodes, JsonObject verticles, String scope) {
    Path dir;
    try {
      dir = Files.createTempDirectory("chat-bench-limits-");
    } catch (java.io.IOException e) {
      return Future.failedFuture(e);
    }
    Bench.removeOnExit(dir);
    JsonObject overrides = new JsonObject()
        .put("verticles", verticles)
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000))
        .put("limits", new JsonObject().put("scope", scope));
    AppConfig cfg = AppConfig.from(TestApp.config(dir, overrides));
    ClusterSettings c = new ClusterSettings(true, "127.0.0.1", null, cluster, 5701, List.of("127.0.0.1"), null);
    return Vertx.builder()
        .with(ClusterSetup.vertxOptions(c))
        .withClusterManager(new HazelcastClusterManager(ClusterSetup.hazelcastConfig(c)))
        .buildClustered()
        .compose(v -> {
          nodes.add(v);
          return Main.start(v, cfg);
        })
        .map(ids -> cfg.http().port());
  }

  private static Future<Boolean> measure(Vertx vertx, int localPort, int clusterPort) {
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      tokens.add(TestTokens.token(vertx, TestTokens.newUserId()));
    }
    WebClient seq = Bench.client(vertx, 1);
    List<Long> local = new CopyOnWriteArrayList<>();
    List<Long> clustered = new CopyOnWriteArrayList<>();
    AtomicInteger errors = new AtomicInteger();
    // warm-up on both nodes (JIT, connections, map proxies), not measured
    Future<Void> chain = sequential(seq, localPort, tokens, 200, new ArrayList<>(), errors)
        .compose(v -> sequential(seq, clusterPort, tokens, 200, new ArrayList<>(), errors));
    for (int r = 0; r < ROUNDS; r++) {
      chain = chain.compose(v -> sequential(seq, localPort, tokens, SEQUENTIAL, local, errors))
          .compose(v -> sequential(seq, clusterPort, tokens, SEQUENTIAL, clustered, errors));
    }
    List<Sample> loads = new ArrayList<>();
    return chain
        .compose(v -> concurrent(vertx, localPort, tokens))
        .compose(s -> {
          loads.add(s);
          return concurrent(vertx, clusterPort, tokens);
        })
        .map(s -> {
          loads.add(s);
          return report(local, clustered, loads.get(0), loads.get(1), errors.get());
        });
  }

  private static Future<Void> sequential(WebClient http, int port, List<String> tokens, int n, List<Long> out,
      AtomicInteger errors) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      String token = tokens.get(i % tokens.size());
      chain = chain.compose(v -> {
        long t0 = System.nanoTime();
        return Bench.get(http, port, token, "/chats").map(r -> {
          out.add((System.nanoTime() - t0) / 1000);
          if (r.statusCode() != 200) {
            errors.incrementAndGet();
          }
          return null;
        });
      });
    }
    return chain;
  }

  private static Future<Sample> concurrent(Vertx vertx, int port, List<String> tokens) {
    WebClient http = Bench.client(vertx, CONNECTIONS);
    List<Long> micros = new CopyOnWriteArrayList<>();
    AtomicInteger errors = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    long start = System.nanoTime();
    long end = start + SECONDS * 1_000_000_000L;
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < CONNECTIONS; c++) {
      loops.add(loop(http, port, tokens, next, end, micros, errors));
    }
    return Future.all(loops).map(v -> new Sample(micros, errors.get(), (System.nanoTime() - start) / 1e9));
  }

  private static Future<Void> loop(WebClient http, int port, List<String> tokens, AtomicInteger next, long end,
      List<Long> micros, AtomicInteger errors) {
    if (System.nanoTime() >= end) {
      return Future.succeededFuture();
    }
    String token = tokens.get(Math.floorMod(next.getAndIncrement(), tokens.size()));
    long t0 = System.nanoTime();
    return Bench.get(http, port, token, "/chats").compose(r -> {
      micros.add((System.nanoTime() - t0) / 1000);
      if (r.statusCode() != 200) {
        errors.incrementAndGet();
      }
      return loop(http, port, tokens, next, end, micros, errors);
    });
  }

  private static String row(String name, List<Long> micros) {
    return String.format("| %s | %d | %.2f ms | %.2f ms | %.2f ms | %.2f ms | %.2f ms |", name, micros.size(),
        Bench.percentile(micros, 50) / 1000, Bench.percentile(micros, 90) / 1000, Bench.percentile(micros, 99) / 1000,
        Bench.percentile(micros, 100) / 1000, Bench.mean(micros) / 1000);
  }

  private static boolean report(List<Long> local, List<Long> clustered, Sample localLoad, Sample clusterLoad,
      int seqErrors) {
    log.info("sequential GET /chats, {} users in turn, {} rounds of {} per node, alternating", USERS, ROUNDS, SEQUENTIAL);
    log.info("| limit check | requests | p50 | p90 | p99 | max | mean |");
    log.info(row("node-local (limits.scope node)", local));
    log.info(row("cluster-wide (limits.scope cluster)", clustered));
    log.info("ratio cluster/local: p50 {}, p90 {}, p99 {}, mean {}",
        String.format("%.2f", Bench.percentile(clustered, 50) / Bench.percentile(local, 50)),
        String.format("%.2f", Bench.percentile(clustered, 90) / Bench.percentile(local, 90)),
        String.format("%.2f", Bench.percentile(clustered, 99) / Bench.percentile(local, 99)),
        String.format("%.2f", Bench.mean(clustered) / Bench.mean(local)));
    log.info("concurrent: {} loops for {} s per node", CONNECTIONS, SECONDS);
    log.info("| limit check | req/s | p50 | p90 | p99 | errors |");
    for (var e : List.of(java.util.Map.entry("node-local", localLoad), java.util.Map.entry("cluster-wide", clusterLoad))) {
      Sample s = e.getValue();
      log.info(String.format("| %s | %.0f | %.2f ms | %.2f ms | %.2f ms | %d |", e.getKey(), s.micros().size() / s.seconds(),
          Bench.percentile(s.micros(), 50) / 1000, Bench.percentile(s.micros(), 90) / 1000,
          Bench.percentile(s.micros(), 99) / 1000, s.errors()));
    }
    boolean pass = seqErrors == 0 && localLoad.errors() == 0 && clusterLoad.errors() == 0;
    log.info("errors: sequential {}, concurrent {} / {}", seqErrors, localLoad.errors(), clusterLoad.errors());
    return pass;
  }
}
