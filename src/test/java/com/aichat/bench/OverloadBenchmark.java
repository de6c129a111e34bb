package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Open-loop overload: {@value #USERS} users (one session each) send at an offered rate for
 * {@value #LOAD_SECONDS} s, whatever the service answers, over real loopback HTTP. The model is the fake
 * Claude with zero latency ({@value #CHUNKS} chunks, no delay between them). Measured per level, each on a
 * fresh service: POST → first delta on the bus ({@code chat.events.delta}), replies completed per second
 * while the load runs and until the backlog drained, {@code 503 OVERLOADED} answers, other errors, and
 * exactly-once: every accepted reply must end {@code completed} with the fake's text and exactly one final
 * event, and none may be left unfinished {@value #DRAIN_SECONDS} s after the load stopped.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.OverloadBenchmark [-Dbench.backend=h2] [-Dbench.rates=50,200,500]
 * [-Dbench.maxQueueWaitMs=...] [-Dbench.maxQueued=...]}
 */
public final class OverloadBenchmark {

  private static final Logger log = LoggerFactory.getLogger(OverloadBenchmark.class);
  static final int USERS = 50;
  static final int LOAD_SECONDS = 10;
  static final int DRAIN_SECONDS = 45;
  static final int CHUNKS = 5;
  static final long TICK_MS = 10;

  record Level(
      int rate, int offered, int accepted, int overloaded, int errors, int completed, int unfinished, int bad,
      int duplicates, double loadReplyRate, double drainSeconds, List<Long> firstDelta, List<Long> postMs,
      Map<String, Integer> traffic) {}

  /** Bus requests of the run, by address (persistence by action), counted by an outbound interceptor. */
  private static final Map<String, AtomicInteger> TRAFFIC = new ConcurrentHashMap<>();

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    List<Integer> rates = new ArrayList<>();
    for (String s : System.getProperty("bench.rates", "50,200,500").split(",")) {
      rates.add(Integer.parseInt(s.trim()));
    }
    Bench.run("OverloadBenchmark[" + backend + "]", 60L * rates.size() + 30, vertx -> run(vertx, backend, rates));
  }

  private static Future<Boolean> run(Vertx vertx, String backend, List<Integer> rates) {
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      String address = ctx.message().address();
      String key = address.startsWith(Addresses.PERSISTENCE_PREFIX)
          ? "store." + ctx.message().headers().get(Addresses.ACTION_HEADER)
          : address.startsWith(Addresses.AI_OUTCOME_PREFIX) || address.startsWith("__vertx.reply") ? null : address;
      if (key != null && (key.startsWith("store.") || key.startsWith("chat.ai") || key.startsWith("chat.dispatch"))) {
        TRAFFIC.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      }
      ctx.next();
    });
    List<Level> results = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int rate : rates) {
      chain = chain.compose(v -> level(vertx, backend, rate)).map(l -> {
        results.add(l);
        return null;
      });
    }
    return chain.map(v -> report(backend, results));
  }

  private static JsonObject extra() {
    JsonObject dispatch = new JsonObject();
    if (System.getProperty("bench.maxQueueWaitMs") != null) {
      dispatch.put("max_queue_wait_ms", Long.parseLong(System.getProperty("bench.maxQueueWaitMs")));
    }
    if (System.getProperty("bench.maxQueued") != null) {
      dispatch.put("max_queued", Integer.parseInt(System.getProperty("bench.maxQueued")));
    }
    return new JsonObject().put("dispatch", dispatch);
  }

  private static Future<Level> level(Vertx vertx, String backend, int rate) {
    return Bench.start(vertx, backend, extra()).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(CHUNKS), 0));
      WebClient http = Bench.client(vertx, 128);
      int port = h.app().httpPort();
      List<String> tokens = new ArrayList<>();
      List<Future<String>> sessions = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        String token = Bench.token(vertx, GenerationHarness.newUserId());
        tokens.add(token);
        sessions.add(Bench.newSession(http, port, token, "overload " + u));
      }
      return Future.all(sessions)
          .compose(cf -> load(vertx, h, http, port, rate, tokens, cf.list()))
          .eventually(() -> Bench.stop(vertx, h));
    });
  }

  private static Future<Level> load(Vertx vertx, GenerationHarness h, WebClient http, int port, int rate,
      List<String> tokens, List<String> sessionIds) {
    TRAFFIC.clear();
    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Map<String, Long> firstDeltaAt = new ConcurrentHashMap<>();
    MessageConsumer<JsonObject> deltas = vertx.eventBus().consumer(Addresses.EVENTS_DELTA, m -> {
      String id = m.body().getString("messageId");
      firstDeltaAt.putIfAbsent(id, System.nanoTime());
    });
    List<String> accepted = new ArrayList<>();
    List<Long> postMs = new ArrayList<>();
    AtomicInteger overloaded = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    int total = rate * LOAD_SECONDS;
    long ticks = LOAD_SECONDS * 1000L / TICK_MS;
    int[] sent = {0};
    List<Future<Void>> posts = new ArrayList<>();
    Promise<Void> loadDone = Promise.promise();
    long t0 = System.nanoTime();
    vertx.setPeriodic(TICK_MS, timer -> {
      long tick = (System.nanoTime() - t0) / (TICK_MS * 1_000_000L) + 1;
      long due = Math.min(total, tick * total / ticks);
      while (sent[0] < due) {
        int i = sent[0]++;
        int u = i % USERS;
        long start = System.nanoTime();
        posts.add(Bench.post(http, port, tokens.get(u), "/chats/" + sessionIds.get(u) + "/messages",
                new JsonObject().put("content", "question " + i))
            .map(r -> {
              postMs.add((System.nanoTime() - start) / 1_000_000);
              if (r.statusCode() == 202) {
                String id = r.body().getJsonObject("reply").getString("id");
                sentAt.put(id, start);
                accepted.add(id);
              } else if (r.statusCode() == 503 && "OVERLOADED".equals(errorCode(r.body()))
                  && r.getHeader("Retry-After") != null) {
                overloaded.incrementAndGet();
              } else {
                errors.incrementAndGet();
              }
              return (Void) null;
            })
            .recover(err -> {
              errors.incrementAndGet();
              return Future.succeededFuture();
            }));
      }
      if (sent[0] >= total) {
        vertx.cancelTimer(timer);
        loadDone.complete();
      }
    });
    long[] loadEnd = new long[1];
    int[] completedDuringLoad = new int[1];
    return loadDone.future()
        .compose(v -> Future.join(new ArrayList<>(posts)))
        .compose(v -> {
          loadEnd[0] = System.nanoTime();
          completedDuringLoad[0] = (int) accepted.stream().filter(id -> h.finalReply(id).isComplete()).count();
          return drain(vertx, h, accepted, System.currentTimeMillis() + DRAIN_SECONDS * 1000L);
        })
        .compose(v -> {
          double drainSeconds = (System.nanoTime() - loadEnd[0]) / 1e9;
          Promise<Void> settle = Promise.promise();
          vertx.setTimer(500, t -> settle.complete()); // room for a duplicate final event to show up
          return settle.future().map(x -> drainSeconds);
        })
        .map(drainSeconds -> {
          String expected = String.join("", FakeAnthropicServer.words(CHUNKS));
          int completed = 0;
          int unfinished = 0;
          int bad = 0;
          int duplicates = 0;
          for (String id : accepted) {
            Future<ChatMessage> f = h.finalReply(id);
            if (!f.isComplete()) {
              unfinished++;
              continue;
            }
            if (f.result().status() == MessageStatus.COMPLETED && expected.equals(f.result().content())) {
              completed++;
            } else {
              bad++;
            }
            if (h.finalEvents(id).size() != 1) {
              duplicates++;
            }
          }
          List<Long> first = new ArrayList<>();
          sentAt.forEach((id, start) -> {
            Long at = firstDeltaAt.get(id);
            if (at != null) {
              first.add((at - start) / 1_000_000);
            }
          });
          deltas.unregister();
          Map<String, Integer> traffic = new java.util.TreeMap<>();
          TRAFFIC.forEach((k, n) -> traffic.put(k, n.get()));
          double loadSeconds = (loadEnd[0] - t0) / 1e9;
          return new Level(rate, total, accepted.size(), overloaded.get(), errors.get(), completed, unfinished, bad,
              duplicates, completedDuringLoad[0] / loadSeconds, drainSeconds, first, postMs, traffic);
        });
  }

  private static String perReply(Level l) {
    StringBuilder sb = new StringBuilder();
    l.traffic().forEach((k, n) -> sb.append(String.format("%s=%d (%.2f) ", k, n, n / (double) Math.max(1, l.accepted()))));
    return sb.toString();
  }

  private static String errorCode(JsonObject body) {
    JsonObject error = body == null ? null : body.getJsonObject("error");
    return error == null ? null : error.getString("code");
  }

  /** Completes when every accepted reply is final, or at {@code deadline}. */
  private static Future<Void> drain(Vertx vertx, GenerationHarness h, List<String> accepted, long deadline) {
    Promise<Void> done = Promise.promise();
    vertx.setPeriodic(50, t -> {
      boolean all = accepted.stream().allMatch(id -> h.finalReply(id).isComplete());
      if (all || System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(t);
        done.complete();
      }
    });
    return done.future();
  }

  private static boolean report(String backend, List<Level> results) {
    log.info("backend={} users={} load={} s zero-latency fake ({} chunks); shipped worker and dispatch settings",
        backend, USERS, LOAD_SECONDS, CHUNKS);
    log.info(String.format("%6s %7s %8s %10s %6s %9s %10s %8s %9s %9s %9s %9s %5s %5s %s", "rate", "offered",
        "accepted", "overloaded", "errors", "completed", "replies/s", "drain s", "1st p50", "1st p99", "post p50",
        "post p99", "bad", "dup", "unfinished"));
    boolean pass = true;
    for (Level l : results) {
      boolean ok = l.errors() == 0 && l.bad() == 0 && l.duplicates() == 0 && l.unfinished() == 0
          && l.accepted() + l.overloaded() == l.offered();
      log.info(String.format("%6d %7d %8d %10d %6d %9d %10.1f %8.1f %9.0f %9.0f %9.0f %9.0f %5d %5d %d %s",
          l.rate(), l.offered(), l.accepted(), l.overloaded(), l.errors(), l.completed(), l.loadReplyRate(),
          l.drainSeconds(), Bench.percentile(l.firstDelta(), 50), Bench.percentile(l.firstDelta(), 99),
          Bench.percentile(l.postMs(), 50), Bench.percentile(l.postMs(), 99), l.bad(), l.duplicates(),
          l.unfinished(), Bench.verdict(ok)));
      log.info("  bus requests at rate {} (per accepted reply): {}", l.rate(), perReply(l));
      pass &= ok;
    }
    log.info("replies/s = replies final by the end of the load / load seconds; drain s = from the end of the load "
        + "until every accepted reply was final (cap {} s)", DRAIN_SECONDS);
    log.info("criteria: every POST answered 202 or 503 OVERLOADED with Retry-After; every accepted reply completed "
        + "exactly once with the fake's text; nothing unfinished after the drain");
    return pass;
  }
}
