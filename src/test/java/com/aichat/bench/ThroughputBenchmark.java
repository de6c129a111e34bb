package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End-to-end generation throughput and latency: N concurrent sessions (one user each) each send
 * {@value #MESSAGES} messages in a row over HTTP; a message's latency is from the POST until its reply's
 * final event. The fake Claude streams {@value #CHUNKS} chunks {@value #CHUNK_DELAY_MS} ms apart (about
 * 0.1 s of streaming per reply). Every reply must complete exactly once with the fake's exact text, and
 * each session's history must hold exactly its user messages and completed replies.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.ThroughputBenchmark [-Dbench.backend=h2] [-Dbench.sessions=1,10,50]}
 */
public final class ThroughputBenchmark {

  private static final Logger log = LoggerFactory.getLogger(ThroughputBenchmark.class);
  static final int MESSAGES = 5;
  static final int CHUNKS = 20;
  static final long CHUNK_DELAY_MS = 5;

  record Level(int sessions, int replies, double seconds, List<Long> latencies, int bad, int duplicates, int historyBad) {}

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    List<Integer> levels = new ArrayList<>();
    for (String s : System.getProperty("bench.sessions", "1,10,50").split(",")) {
      levels.add(Integer.parseInt(s.trim()));
    }
    Bench.run("ThroughputBenchmark[" + backend + "]", 120, vertx -> run(vertx, backend, levels));
  }

  private static Future<Boolean> run(Vertx vertx, String backend, List<Integer> levels) {
    return Bench.start(vertx, backend, null).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(CHUNKS), CHUNK_DELAY_MS));
      WebClient http = Bench.client(vertx, 64);
      List<Level> results = new ArrayList<>();
      Future<Void> chain = Future.succeededFuture();
      for (int n : levels) {
        chain = chain.compose(v -> level(vertx, h, http, n)).map(l -> {
          results.add(l);
          return null;
        });
      }
      return chain.map(v -> report(backend, results)).eventually(() -> h.close());
    });
  }

  private static Future<Level> level(Vertx vertx, GenerationHarness h, WebClient http, int sessions) {
    int port = h.app().httpPort();
    List<Long> latencies = new CopyOnWriteArrayList<>();
    List<String> replyIds = new CopyOnWriteArrayList<>();
    List<String[]> sessionTokens = new CopyOnWriteArrayList<>();
    List<Future<Void>> loops = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int s = 0; s < sessions; s++) {
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      loops.add(Bench.newSession(http, port, token, "load " + s).compose(sessionId -> {
        sessionTokens.add(new String[] {sessionId, token});
        return sendLoop(h, http, port, token, sessionId, 0, latencies, replyIds);
      }));
    }
    return Future.all(loops).compose(v -> {
      double seconds = (System.nanoTime() - t0) / 1e9;
      Promise<Void> settle = Promise.promise();
      vertx.setTimer(500, t -> settle.complete()); // room for a duplicate final event to show up
      return settle.future().compose(x -> checkHistories(http, port, sessionTokens))
          .map(historyBad -> {
            String expected = String.join("", FakeAnthropicServer.words(CHUNKS));
            int bad = 0;
            int duplicates = 0;
            for (String id : replyIds) {
              ChatMessage m = h.finalReply(id).result();
              if (m.status() != MessageStatus.COMPLETED || !expected.equals(m.content())) {
                bad++;
              }
              if (h.finalEvents(id).size() != 1) {
                duplicates++;
              }
            }
            return new Level(sessions, replyIds.size(), seconds, latencies, bad, duplicates, historyBad);
          });
    });
  }

  private static Future<Void> sendLoop(GenerationHarness h, WebClient http, int port, String token, String sessionId,
      int i, List<Long> latencies, List<String> replyIds) {
    if (i == MESSAGES) {
      return Future.succeededFuture();
    }
    long start = System.nanoTime();
    return Bench.send(http, port, token, sessionId, "question " + i)
        .compose(id -> {
          replyIds.add(id);
          return h.finalReply(id);
        })
        .compose(m -> {
          latencies.add((System.nanoTime() - start) / 1_000_000);
          return sendLoop(h, http, port, token, sessionId, i + 1, latencies, replyIds);
        });
  }

  /** Counts sessions whose stored history is not exactly MESSAGES user messages + MESSAGES completed replies. */
  private static Future<Integer> checkHistories(WebClient http, int port, List<String[]> sessionTokens) {
    List<Future<Boolean>> checks = new ArrayList<>();
    for (String[] st : sessionTokens) {
      checks.add(Bench.get(http, port, st[1], "/chats/" + st[0] + "/messages?limit=100").map(r -> {
        JsonArray items = r.body().getJsonArray("items");
        long users = items.stream().filter(o -> "user".equals(((JsonObject) o).getString("messageType"))).count();
        long done = items.stream().filter(o -> "ai_report".equals(((JsonObject) o).getString("messageType"))
            && "completed".equals(((JsonObject) o).getString("status"))).count();
        return r.statusCode() == 200 && items.size() == 2 * MESSAGES && users == MESSAGES && done == MESSAGES;
      }));
    }
    return Future.all(checks).map(cf -> (int) checks.stream().filter(f -> !f.result()).count());
  }

  private static boolean report(String backend, List<Level> results) {
    log.info("backend={} messages/session={} fake stream={} chunks x {} ms; worker: 2 instances x 8 jobs, 2 per user",
        backend, MESSAGES, CHUNKS, CHUNK_DELAY_MS);
    log.info(String.format("%8s %8s %9s %9s %9s %9s %10s %5s %5s %8s", "sessions", "replies", "p50 ms", "p95 ms",
        "p99 ms", "max ms", "replies/s", "bad", "dup", "history"));
    boolean pass = true;
    for (Level l : results) {
      boolean ok = l.replies() == l.sessions() * MESSAGES && l.bad() == 0 && l.duplicates() == 0 && l.historyBad() == 0;
      log.info(String.format("%8d %8d %9.0f %9.0f %9.0f %9.0f %10.1f %5d %5d %8s %s", l.sessions(), l.replies(),
          Bench.percentile(l.latencies(), 50), Bench.percentile(l.latencies(), 95), Bench.percentile(l.latencies(), 99),
          Bench.percentile(l.latencies(), 100), l.replies() / l.seconds(), l.bad(), l.duplicates(),
          l.historyBad() == 0 ? "exact" : l.historyBad() + " bad", Bench.verdict(ok)));
      pass &= ok;
    }
    log.info("criteria: every reply completed exactly once with the fake's exact text; every history exact");
    return pass;
  }
}
