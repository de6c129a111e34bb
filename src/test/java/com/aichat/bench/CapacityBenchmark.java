package com.aichat.bench;

import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 9's concurrency run, provider side: N users each send one message over HTTP at the same moment;
 * the fake Messages API (in a JVM of its own, {@link FakeAnthropicMain}) streams each reply for about
 * 10 s (100 chunks, 100 ms apart). The service runs the shipped worker and provider defaults (limits
 * derived from the heap, pool sized from the worker). Reports the provider's peak concurrent streams,
 * POST → first delta p50/p90/max, completions, the live heap after GC with every stream active versus
 * after they all completed (so the stored replies are not counted as stream cost), and CPU time.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.CapacityBenchmark [-Dbench.n=500] [-Dbench.backend=h2]}
 */
public final class CapacityBenchmark {

  private static final Logger log = LoggerFactory.getLogger(CapacityBenchmark.class);

  private static final int CHUNKS = 100;
  private static final long CHUNK_DELAY_MS = 100;

  private final int n = Math.max(1, Math.min(10_000, Integer.getInteger("bench.n", 500)));
  private final Map<String, Long> sentAtMs = new ConcurrentHashMap<>();
  private final Map<String, Long> acceptedAtMs = new ConcurrentHashMap<>();
  private final Map<String, Long> firstDeltaMs = new ConcurrentHashMap<>();
  private final AtomicInteger deltas = new AtomicInteger();
  private volatile int fakeInFlight;
  /** Streams in flight at the provider when the active heap was measured. */
  private int streamingAtMeasure;
  private volatile int fakePeak;
  private volatile int fakeRequests;
  private Process fakeProcess;

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    CapacityBenchmark bench = new CapacityBenchmark();
    // streams last ~10 s; sending, GC and settling add a bounded amount per 1,000 users
    long limit = 120 + bench.n / 20;
    Bench.run("CapacityBenchmark[n=" + bench.n + ", " + backend + "]", limit, vertx -> bench.run(vertx, backend));
  }

  private Future<Boolean> run(Vertx vertx, String backend) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> {
      deltas.incrementAndGet();
      firstDeltaMs.putIfAbsent(m.body().getString("messageId"), System.currentTimeMillis());
    });
    return vertx.executeBlocking(this::startFake)
        .compose(port -> Bench.start(vertx, backend, new JsonObject()
            .put("claude", new JsonObject().put("base_url", "http://127.0.0.1:" + port))))
        .compose(h -> measure(vertx, h, backend).eventually(() -> h.close()))
        .eventually(() -> {
          if (fakeProcess != null) {
            fakeProcess.destroy();
          }
          return Future.succeededFuture();
        });
  }

  private Future<Boolean> measure(Vertx vertx, GenerationHarness h, String backend) {
    log.info("node: heap max {} MB, worker.max_concurrent {} x {} instances (per node {}), claude.max_connections {}",
        Runtime.getRuntime().maxMemory() >> 20, h.app().config().worker().maxConcurrent(),
        h.app().config().deployment().worker(), h.app().config().worker().maxConcurrentPerNode(),
        h.app().config().providers().claude().maxConnections());
    WebClient http = Bench.client(vertx, 64);
    int port = h.app().httpPort();
    List<String> users = new ArrayList<>();
    List<String> tokens = new ArrayList<>();
    List<Future<String>> sessions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String user = GenerationHarness.newUserId();
      users.add(user);
      tokens.add(Bench.token(vertx, user));
      sessions.add(h.newSession(user).map(s -> s.id()));
    }
    long[] heap = new long[3];
    long[] cpu = new long[2];
    List<String> replyIds = new ArrayList<>();
    long[] sendWindow = new long[2];
    return Future.all(sessions)
        .compose(v -> vertx.executeBlocking(this::liveHeapAfterGc)).map(b -> heap[0] = b)
        .compose(v -> {
          cpu[0] = processCpuNanos();
          sendWindow[0] = System.currentTimeMillis();
          List<Future<String>> sends = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            long at = System.currentTimeMillis();
            sends.add(Bench.send(http, port, tokens.get(i), sessions.get(i).result(), "capacity question " + i)
                .onSuccess(id -> {
                  sentAtMs.put(id, at);
                  acceptedAtMs.put(id, System.currentTimeMillis());
                }));
          }
          return Future.all(sends).map(all -> {
            sendWindow[1] = System.currentTimeMillis();
            all.<String>list().forEach(replyIds::add);
            return null;
          });
        })
        // every stream on the wire and past its first delta, then measure while they all still stream
        .compose(v -> until(vertx, () -> firstDeltaMs.keySet().containsAll(replyIds) || fakeRequests >= n && fakeInFlight >= n, 60_000))
        .compose(v -> vertx.timer(1000))
        .compose(v -> vertx.executeBlocking(this::liveHeapAfterGc)).map(b -> heap[1] = b)
        .compose(v -> {
          streamingAtMeasure = fakeInFlight;
          log.info("measured active heap with {} streams in flight at the provider", streamingAtMeasure);
          return Future.join(replyIds.stream().map(h::finalReply).toList());
        })
        .compose(v -> {
          cpu[1] = processCpuNanos();
          return vertx.timer(500);
        })
        .compose(v -> vertx.executeBlocking(this::liveHeapAfterGc)).map(b -> heap[2] = b)
        .map(v -> report(h, replyIds, heap, cpu, sendWindow, backend));
  }

  private boolean report(GenerationHarness h, List<String> replyIds, long[] heap, long[] cpu, long[] sendWindow,
      String backend) {
    List<Long> first = new ArrayList<>();
    List<Long> afterAccept = new ArrayList<>();
    int completed = 0;
    for (String id : replyIds) {
      ChatMessage m = h.finalReply(id).result();
      if (m.status() == MessageStatus.COMPLETED && m.attempts() == 1) {
        completed++;
      }
      Long d = firstDeltaMs.get(id);
      if (d != null) {
        first.add(d - sentAtMs.get(id));
        afterAccept.add(d - acceptedAtMs.get(id));
      }
    }
    // the active heap holds streamingAtMeasure live streams; after completion it holds none
    double perStreamVsDone = (heap[1] - heap[2]) / (double) Math.max(1, streamingAtMeasure) / 1024;
    double perStreamVsIdle = (heap[1] - heap[0]) / (double) n / 1024;
    log.info("backend={} N={} (fake: {} chunks x {} ms per reply, its own JVM)", backend, n, CHUNKS, CHUNK_DELAY_MS);
    log.info(String.format("sends accepted over %d ms; provider peak concurrent streams %d; requests %d",
        sendWindow[1] - sendWindow[0], fakePeak, fakeRequests));
    log.info(String.format("POST -> first delta: p50 %.0f ms, p90 %.0f ms, max %.0f ms (%d of %d)",
        Bench.percentile(first, 50), Bench.percentile(first, 90), Bench.percentile(first, 100), first.size(), n));
    log.info(String.format("POST answered (202) -> first delta: p50 %.0f ms, p90 %.0f ms, max %.0f ms",
        Bench.percentile(afterAccept, 50), Bench.percentile(afterAccept, 90), Bench.percentile(afterAccept, 100)));
    log.info(String.format("completed in one attempt: %d of %d; delta bus messages %d", completed, n, deltas.get()));
    log.info(String.format("live heap after GC: idle %.1f MB, all streams active %.1f MB, all completed %.1f MB",
        heap[0] / 1048576.0, heap[1] / 1048576.0, heap[2] / 1048576.0));
    log.info(String.format("heap per active stream: %.1f KB ((active - completed) / %d streams in flight then); "
        + "%.1f KB per reply (active - idle) / N, which includes the stored messages", perStreamVsDone,
        streamingAtMeasure, perStreamVsIdle));
    log.info(String.format("process CPU from the sends to the last completion: %.1f s", (cpu[1] - cpu[0]) / 1e9));
    boolean pass = fakePeak == n && completed == n && streamingAtMeasure == n && perStreamVsDone <= 64;
    log.info("criteria: provider peak == N, every reply completed in one attempt, heap per active stream <= 64 KB");
    return pass;
  }

  /** Starts {@link FakeAnthropicMain} in a child JVM and answers its port; a reader thread tracks its stats. */
  private int startFake() throws IOException {
    long maxSeconds = 300;
    ProcessBuilder pb = new ProcessBuilder(
        new File(System.getProperty("java.home"), "bin/java").getPath(), "-Xmx1g", "-cp", classpath(),
        FakeAnthropicMain.class.getName(), String.valueOf(CHUNKS), String.valueOf(CHUNK_DELAY_MS),
        String.valueOf(maxSeconds));
    pb.redirectError(ProcessBuilder.Redirect.DISCARD);
    fakeProcess = pb.start();
    BufferedReader out = new BufferedReader(new InputStreamReader(fakeProcess.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    for (int i = 0; i < 200 && line != null && !line.startsWith("PORT "); i++) {
      line = out.readLine();
    }
    if (line == null || !line.startsWith("PORT ")) {
      throw new IllegalStateException("the fake did not start");
    }
    int port = Integer.parseInt(line.substring(5).trim());
    Thread reader = new Thread(() -> {
      try {
        for (String l = out.readLine(); l != null; l = out.readLine()) {
          String[] f = l.split(" ");
          if (f.length == 4 && f[0].equals("STATS")) {
            fakeInFlight = Integer.parseInt(f[1]);
            fakePeak = Integer.parseInt(f[2]);
            fakeRequests = Integer.parseInt(f[3]);
          }
        }
      } catch (IOException e) {
        // the child ended
      }
    }, "fake-stats");
    reader.setDaemon(true);
    reader.start();
    return port;
  }

  /** The test classpath: exec:java runs the benchmark in its own class loader, not on java.class.path. */
  private static String classpath() {
    ClassLoader cl = CapacityBenchmark.class.getClassLoader();
    if (cl instanceof URLClassLoader ucl) {
      List<String> parts = new ArrayList<>();
      for (URL u : ucl.getURLs()) {
        parts.add(new File(u.getPath()).getPath());
      }
      return String.join(File.pathSeparator, parts);
    }
    return System.getProperty("java.class.path");
  }

  /** Live heap after full collections (a few, until it stops shrinking), in bytes. */
  private long liveHeapAfterGc() throws InterruptedException {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      TimeUnit.MILLISECONDS.sleep(100);
      best = Math.min(best, mem.getHeapMemoryUsage().getUsed());
    }
    return best;
  }

  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
  }

  private static Future<Void> until(Vertx vertx, BooleanSupplier condition, long maxMs) {
    Promise<Void> p = Promise.promise();
    long deadline = System.currentTimeMillis() + maxMs;
    vertx.setPeriodic(20, t -> {
      if (condition.getAsBoolean() || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(t);
        p.tryComplete();
      }
    });
    return p.future();
  }
}
