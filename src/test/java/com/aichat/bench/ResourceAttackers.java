package com.aichat.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.types.ObjectId;
import org.slf4j.Logger;

/**
 * The issue 24 attackers of {@link AbuseBenchmark}, each against a resource that a feature added since
 * issue 10 spends: (e) {@value #STALLED_EXPORTS} raw connections that send {@code GET /chats/:id/export}
 * for a multi-MB session and never read (a 16 KB receive buffer, the socket paused), reopened when the
 * server closes one; (f) {@value #SEARCH_LOOPS} loops of one user with {@value #SEARCH_MESSAGES} messages
 * of {@value #SEARCH_MESSAGE_CHARS} characters searching back to back for a 200-character query that never
 * matches (following {@code nextCursor} while there is one); (g) {@code POST /dev/token} from one address
 * at about {@value #DEV_TOKENS_PER_SEC}/s. The data of (e) and (f) is bulk-inserted straight into the
 * embedded store's wire port before the abuse phase.
 */
final class ResourceAttackers {

  static final int STALLED_EXPORTS = 10;
  static final int EXPORT_MESSAGES = 1_000;
  static final int EXPORT_MESSAGE_CHARS = 16_000;
  static final int SEARCH_LOOPS = 3;
  static final int SEARCH_MESSAGES = 440;
  static final int SEARCH_MESSAGE_CHARS = 32_000;
  static final String HOSTILE_QUERY = "a".repeat(199) + "b";
  static final int DEV_TOKENS_PER_SEC = 200;

  private final Vertx vertx;
  private final int port;
  private volatile boolean running;
  private final List<Long> timers = new ArrayList<>();

  // (e) stalled exports
  private final AtomicLong stalledOpened = new AtomicLong();
  private final AtomicLong stalledClosedByServer = new AtomicLong();
  private final AtomicLong stalledRefused = new AtomicLong();
  private final AtomicLong stalledBytes = new AtomicLong();
  private final List<NetSocket> stalled = java.util.Collections.synchronizedList(new ArrayList<>());
  // (f) hostile searches
  private final Map<String, AtomicLong> searchOutcomes = new ConcurrentHashMap<>();
  private final List<Long> searchMs = java.util.Collections.synchronizedList(new ArrayList<>());
  // (g) /dev/token flood
  private final Map<String, AtomicLong> devTokenOutcomes = new ConcurrentHashMap<>();
  private final AtomicLong devTokenInFlight = new AtomicLong();
  private long startedAt;
  private long stoppedAt;

  ResourceAttackers(Vertx vertx, int httpPort) {
    this.vertx = vertx;
    this.port = httpPort;
  }

  // ---------------------------------------------------------------- seeding

  /**
   * {@code n} completed messages (user and reply alternating) of {@code chars} characters each,
   * bulk-inserted into {@code sessionId} of {@code userId}, 1 ms apart.
   */
  static Future<Void> seed(MongoClient direct, String userId, String sessionId, int n, int chars, char fill) {
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    List<List<BulkOperation>> batches = new ArrayList<>();
    List<BulkOperation> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String at = t0.plusMillis(i).toString();
      String head = "#" + i + " ";
      ops.add(BulkOperation.createInsert(new JsonObject()
          .put("_id", new JsonObject().put("$oid", new ObjectId().toHexString()))
          .put("userId", new JsonObject().put("$oid", userId))
          .put("chatSessionId", new JsonObject().put("$oid", sessionId))
          .put("messageType", i % 2 == 0 ? "user" : "ai_report")
          .put("content", head + String.valueOf(fill).repeat(Math.max(0, chars - head.length())))
          .put("status", "completed")
          .put("attempts", 0)
          .put("createdAt", new JsonObject().put("$date", at))
          .put("updatedAt", new JsonObject().put("$date", at))));
      if (ops.size() == 50) {
        batches.add(ops);
        ops = new ArrayList<>();
      }
    }
    if (!ops.isEmpty()) {
      batches.add(ops);
    }
    Future<Void> chain = Future.succeededFuture();
    for (List<BulkOperation> b : batches) {
      chain = chain.compose(v -> direct.bulkWrite("prompthistories", b).mapEmpty());
    }
    return chain;
  }

  // ---------------------------------------------------------------- the attack

  void start(String exportToken, String exportSessionId, String searchToken, WebClient searchHttp,
      WebClient devHttp) {
    running = true;
    startedAt = System.currentTimeMillis();
    NetClient net = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5_000)
        .setReceiveBufferSize(16 * 1024));
    for (int i = 0; i < STALLED_EXPORTS; i++) {
      stalledExport(net, exportToken, exportSessionId);
    }
    for (int i = 0; i < SEARCH_LOOPS; i++) {
      searcher(searchHttp, searchToken, null);
    }
    // 200/s as one request every 5 ms; at most 64 unanswered at a time
    timers.add(vertx.setPeriodic(1000 / DEV_TOKENS_PER_SEC, t -> devToken(devHttp)));
  }

  void stop() {
    running = false;
    stoppedAt = System.currentTimeMillis();
    timers.forEach(vertx::cancelTimer);
    synchronized (stalled) {
      stalled.forEach(NetSocket::close);
      stalled.clear();
    }
  }

  /** Sends the export request on a raw connection and never reads; reopens when the server closes it. */
  private void stalledExport(NetClient net, String token, String sessionId) {
    if (!running) {
      return;
    }
    net.connect(port, "127.0.0.1").onFailure(e -> {
      stalledRefused.incrementAndGet();
      vertx.setTimer(1_000, t -> stalledExport(net, token, sessionId));
    }).onSuccess(so -> {
      stalledOpened.incrementAndGet();
      stalled.add(so);
      so.handler(b -> stalledBytes.addAndGet(b.length()));
      so.pause(); // never read: the kernel's buffers fill, then the server's writes wait
      so.closeHandler(v -> {
        if (stalled.remove(so) && running) {
          stalledClosedByServer.incrementAndGet();
          vertx.setTimer(1_000, t -> stalledExport(net, token, sessionId));
        }
      });
      so.write("GET /chats/" + sessionId + "/export?format=json HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nAuthorization: Bearer " + token + "\r\nAccept-Encoding: identity\r\n\r\n");
    });
  }

  /** One hostile search after another, following the cursor while there is one; counts the answers. */
  private void searcher(WebClient http, String token, String cursor) {
    if (!running) {
      return;
    }
    long t0 = System.currentTimeMillis();
    http.get(port, "127.0.0.1", "/chats/search?q=" + URLEncoder.encode(HOSTILE_QUERY, StandardCharsets.UTF_8)
            + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)))
        .bearerTokenAuthentication(token).as(BodyCodec.jsonObject()).send()
        .onComplete(ar -> {
          String next = null;
          String key;
          if (ar.failed()) {
            key = "transport error";
          } else {
            JsonObject b = ar.result().body();
            int status = ar.result().statusCode();
            JsonObject err = b == null ? null : b.getJsonObject("error");
            if (status == 200 && b != null) {
              next = b.getString("nextCursor");
              key = "200 " + (next == null ? "end" : "nextCursor")
                  + (b.getJsonArray("items", new io.vertx.core.json.JsonArray()).isEmpty() ? "" : " with hits");
              searchMs.add(System.currentTimeMillis() - t0);
            } else {
              key = status + (err == null ? "" : " " + err.getString("code"));
            }
          }
          count(searchOutcomes, key);
          searcher(http, token, next);
        });
  }

  private void devToken(WebClient http) {
    if (!running || devTokenInFlight.get() >= 64) {
      if (running) {
        count(devTokenOutcomes, "not sent (64 unanswered)");
      }
      return;
    }
    devTokenInFlight.incrementAndGet();
    http.post(port, "127.0.0.1", "/dev/token").send().onComplete(ar -> {
      devTokenInFlight.decrementAndGet();
      if (ar.failed()) {
        count(devTokenOutcomes, "transport error");
        return;
      }
      String key = String.valueOf(ar.result().statusCode());
      if (ar.result().statusCode() == 200) {
        JsonObject b = ar.result().bodyAsJsonObject();
        key += b != null && b.getString("token") != null ? " token" : " no token";
      } else if (ar.result().statusCode() >= 400) {
        try {
          JsonObject err = ar.result().bodyAsJsonObject().getJsonObject("error");
          key += err == null ? "" : " " + err.getString("code");
        } catch (RuntimeException e) {
          // not JSON: the status alone
        }
      }
      count(devTokenOutcomes, key);
    });
  }

  /** Export pages held in memory right now (package-private in the service; read reflectively), or -1. */
  static long exportPagesInMemory() {
    try {
      java.lang.reflect.Method m = Class.forName("com.aichat.api.SessionExport").getDeclaredMethod("pagesInMemory");
      m.setAccessible(true);
      return (long) m.invoke(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }

  private static void count(Map<String, AtomicLong> m, String key) {
    m.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  private static Map<String, Long> snapshot(Map<String, AtomicLong> m) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  void report(Logger log) {
    double secs = Math.max(1, (stoppedAt - startedAt)) / 1000.0;
    log.info("(e) stalled exports ({} open at a time, a {}-message session of ~{} MB): opened {}, closed by the "
        + "server {}, connects refused {}, bytes they let in {} KiB", STALLED_EXPORTS, EXPORT_MESSAGES,
        (long) EXPORT_MESSAGES * EXPORT_MESSAGE_CHARS >> 20, stalledOpened.get(), stalledClosedByServer.get(),
        stalledRefused.get(), stalledBytes.get() >> 10);
    List<Long> ms;
    synchronized (searchMs) {
      ms = new ArrayList<>(searchMs);
    }
    log.info("(f) hostile searches ({} loops, one user, {} x {} chars, a 200-char query that never matches): {} "
        + "in {} s; 200 answers took p50 {} ms, max {} ms", SEARCH_LOOPS, SEARCH_MESSAGES, SEARCH_MESSAGE_CHARS,
        snapshot(searchOutcomes), String.format("%.1f", secs), (long) Bench.percentile(ms, 50),
        (long) Bench.percentile(ms, 100));
    long sent = devTokenOutcomes.entrySet().stream().filter(e -> !e.getKey().startsWith("not sent"))
        .mapToLong(e -> e.getValue().get()).sum();
    log.info("(g) /dev/token flood (~{}/s from 127.0.0.1): {} answered in {} s ({}/s): {}", DEV_TOKENS_PER_SEC, sent,
        String.format("%.1f", secs), String.format("%.0f", sent / secs), snapshot(devTokenOutcomes));
  }
}
