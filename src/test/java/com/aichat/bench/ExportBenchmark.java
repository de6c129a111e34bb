package com.aichat.bench;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports a 100,000-message session (issue 12) and measures time, bytes and the heap: the live heap
 * after a full GC before the export, the highest heap in use sampled every 20 ms while it streams, and
 * the live heap after a GC at the end. The client reads at full speed and keeps nothing (it counts
 * bytes), so what grows is the server side. Then the same export with a client that pauses for 2 s
 * after every 4 MB, to show that a slow reader does not make the server buffer the session. "Live"
 * is the heap left after the most recent collection of each pool, sampled every 20 ms; the used heap
 * including garbage is printed too but says nothing about what an export holds.
 *
 * <pre>mvn -B -q test-compile exec:java -Dexec.classpathScope=test \
 *   -Dexec.mainClass=com.aichat.bench.ExportBenchmark [-Dexport.messages=100000] [-Dexport.backend=memory]</pre>
 *
 * PASS when both exports return every message and the live heap never grows by 64 MB or more (the
 * whole export body is about {@code messages × 0.5 KB}, 46 MB at 100,000). Run it with a small heap,
 * e.g. {@code MAVEN_OPTS=-Xmx400m}, to see that it also fits one.
 */
public final class ExportBenchmark {

  private static final Logger log = LoggerFactory.getLogger(ExportBenchmark.class);
  private static final String KEY = "\"messageType\"";

  public static void main(String[] args) throws Exception {
    int n = Integer.getInteger("export.messages", 100_000);
    String backend = System.getProperty("export.backend", "memory");
    Vertx vertx = Vertx.vertx();
    Path dir = Files.createTempDirectory("export-bench");
    Bench.removeOnExit(dir);
    int mongoPort = TestApp.freePort();
    TestApp app = TestApp.start(vertx, dir, new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0).put("dispatcher", 0).put("gateway", 0).put("api", 1))
        .put("mongo", new JsonObject().put("embedded_backend", backend).put("embedded_port", mongoPort))
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000))).await();
    MongoClient direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
    String user = TestTokens.newUserId();
    String token = TestTokens.token(vertx, user);
    WebClient web = WebClient.create(vertx);
    String sid = web.post(app.httpPort(), "127.0.0.1", "/chats").bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject().put("title", "long")).await().bodyAsJsonObject().getString("id");
    long seedStart = System.nanoTime();
    seed(direct, user, sid, n);
    log.info("seeded {} messages in {} ms ({} backend)", n, (System.nanoTime() - seedStart) / 1_000_000, backend);

    HttpClient http = vertx.createHttpClient();
    boolean pass = true;
    for (boolean slow : new boolean[] {false, true}) {
      MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
      System.gc();
      long before = mem.getHeapMemoryUsage().getUsed();
      AtomicLong peak = new AtomicLong(before);
      AtomicLong livePeak = new AtomicLong(liveAfterLastGc());
      long liveBefore = livePeak.get();
      long sampler = vertx.setPeriodic(20, t -> {
        peak.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
        livePeak.accumulateAndGet(liveAfterLastGc(), Math::max);
      });
      long start = System.nanoTime();
      long[] result = export(vertx, http, app.httpPort(), sid, token, slow);
      long ms = (System.nanoTime() - start) / 1_000_000;
      vertx.cancelTimer(sampler);
      System.gc();
      long after = mem.getHeapMemoryUsage().getUsed();
      long peakDeltaMb = (peak.get() - before) / (1024 * 1024);
      long liveDeltaMb = (livePeak.get() - liveBefore) / (1024 * 1024);
      boolean ok = result[1] == n && liveDeltaMb < 64;
      pass &= ok;
      log.info("{} export: {} messages, {} MB in {} ms ({} chunks); heap after GC before {} MB, highest heap left"
          + " after any GC during the export +{} MB (used heap incl. garbage peaked +{} MB), after GC {} MB; max heap {} MB: {}",
          slow ? "slow-reader" : "full-speed", result[1], result[0] / (1024 * 1024), ms, result[2],
          before / (1024 * 1024), liveDeltaMb, peakDeltaMb, after / (1024 * 1024),
          mem.getHeapMemoryUsage().getMax() / (1024 * 1024), ok ? "PASS" : "FAIL");
    }
    direct.close().await();
    vertx.close().await();
    log.info("ExportBenchmark {}", pass ? "PASS" : "FAIL");
    System.exit(pass ? 0 : 1);
  }

  /** Heap in use right after the most recent collection of each heap pool (≈ the live set). */
  private static long liveAfterLastGc() {
    long sum = 0;
    for (java.lang.management.MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == java.lang.management.MemoryType.HEAP && pool.getCollectionUsage() != null) {
        sum += pool.getCollectionUsage().getUsed();
      }
    }
    return sum;
  }

  /** Streams the export, counting bytes, messages ("messageType" occurrences) and chunks. */
  private static long[] export(Vertx vertx, HttpClient http, int port, String sid, String token, boolean slow) {
    Promise<long[]> done = Promise.promise();
    AtomicLong bytes = new AtomicLong();
    AtomicLong messages = new AtomicLong();
    AtomicLong chunks = new AtomicLong();
    AtomicLong sincePause = new AtomicLong();
    String[] tail = {""};
    http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
            .setURI("/chats/" + sid + "/export?format=json").putHeader("Authorization", "Bearer " + token))
        .compose(req -> req.send())
        .onSuccess((HttpClientResponse res) -> {
          res.handler(b -> {
            bytes.addAndGet(b.length());
            chunks.incrementAndGet();
            // a key split across two chunks is counted once: search the previous chunk's tail too
            String w = tail[0] + b.toString();
            for (int i = w.indexOf(KEY); i >= 0; i = w.indexOf(KEY, i + 1)) {
              if (i + KEY.length() > tail[0].length()) {
                messages.incrementAndGet();
              }
            }
            tail[0] = w.substring(Math.max(0, w.length() - KEY.length() + 1));
            if (slow && sincePause.addAndGet(b.length()) > 4L * 1024 * 1024) {
              sincePause.set(0);
              res.pause();
              vertx.setTimer(2000, t -> res.resume());
            }
          });
          res.endHandler(v -> done.complete(new long[] {bytes.get(), messages.get(), chunks.get()}));
          res.exceptionHandler(done::tryFail);
        })
        .onFailure(done::tryFail);
    return done.future().await();
  }

  private static void seed(MongoClient direct, String user, String sid, int n) {
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    List<BulkOperation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String at = t0.plusMillis(i).toString();
      ops.add(BulkOperation.createInsert(new JsonObject()
          .put("_id", new JsonObject().put("$oid", new ObjectId().toHexString()))
          .put("userId", new JsonObject().put("$oid", user))
          .put("chatSessionId", new JsonObject().put("$oid", sid))
          .put("messageType", i % 2 == 0 ? "user" : "ai_report")
          .put("content", "message " + i + " " + "lorem ipsum dolor sit amet ".repeat(8))
          .put("status", "completed")
          .put("attempts", 0)
          .put("createdAt", new JsonObject().put("$date", at))
          .put("updatedAt", new JsonObject().put("$date", at))));
      if (ops.size() == 1000) {
        direct.bulkWrite("prompthistories", ops).await();
        ops = new ArrayList<>();
      }
    }
    if (!ops.isEmpty()) {
      direct.bulkWrite("prompthistories", ops).await();
    }
  }
}
