package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 3's cadence numbers, per reply: provider chunks vs {@code chat.events.delta} bus messages vs
 * {@code checkpointGeneration} store requests, with the mean gap between deltas (~50 ms expected) and
 * between checkpoints (~1 s expected). The fake Claude streams {@value #CHUNKS} tiny chunks
 * {@value #CHUNK_DELAY_MS} ms apart, a fast token stream; messages go in over real HTTP.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.GenerationBenchmark [-Dbench.backend=h2]}
 */
public final class GenerationBenchmark {

  private static final Logger log = LoggerFactory.getLogger(GenerationBenchmark.class);
  static final int CHUNKS = 800;
  static final long CHUNK_DELAY_MS = 5;
  static final int REPLIES = 3;

  private final Map<String, List<Long>> deltaTimes = new ConcurrentHashMap<>();
  private final Map<String, List<Long>> checkpointTimes = new ConcurrentHashMap<>();
  private final Map<String, List<String>> storeWrites = new ConcurrentHashMap<>();

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    Bench.run("GenerationBenchmark[" + backend + "]", 90, vertx -> new GenerationBenchmark().run(vertx, backend));
  }

  private Future<Boolean> run(Vertx vertx, String backend) {
    observe(vertx);
    return Bench.start(vertx, backend, null).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(CHUNKS), CHUNK_DELAY_MS));
      WebClient http = Bench.client(vertx, 4);
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      int port = h.app().httpPort();
      return Bench.newSession(http, port, token, "cadence")
          .compose(sessionId -> replies(vertx, h, http, port, token, sessionId, 0, new ArrayList<>()))
          .map(ids -> report(h, ids, backend))
          .eventually(() -> h.close());
    });
  }

  /** Counts deltas as the gateway would see them, and store requests as the persistence verticle would. */
  private void observe(Vertx vertx) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m ->
        deltaTimes.computeIfAbsent(m.body().getString("messageId"), k -> new CopyOnWriteArrayList<>())
            .add(System.nanoTime()));
    vertx.eventBus().addOutboundInterceptor(ctx -> {
      if (ctx.message().address().startsWith(Addresses.PERSISTENCE_PREFIX) && ctx.body() instanceof JsonObject body) {
        String action = ctx.message().headers().get(Addresses.ACTION_HEADER);
        String messageId = body.getString("messageId");
        if (messageId != null) {
          storeWrites.computeIfAbsent(messageId, k -> new CopyOnWriteArrayList<>()).add(action);
          if ("checkpointGeneration".equals(action)) {
            checkpointTimes.computeIfAbsent(messageId, k -> new CopyOnWriteArrayList<>()).add(System.nanoTime());
          }
        }
      }
      ctx.next();
    });
  }

  private Future<List<String>> replies(Vertx vertx, GenerationHarness h, WebClient http, int port, String token,
      String sessionId, int i, List<String> ids) {
    if (i == REPLIES) {
      return Future.succeededFuture(ids);
    }
    return Bench.send(http, port, token, sessionId, "cadence question " + i)
        .compose(id -> {
          ids.add(id);
          return h.finalReply(id);
        })
        .compose(done -> {
          Promise<Void> settle = Promise.promise();
          vertx.setTimer(300, t -> settle.complete()); // late duplicates or stray writes would show up here
          return settle.future();
        })
        .compose(v -> replies(vertx, h, http, port, token, sessionId, i + 1, ids));
  }

  private boolean report(GenerationHarness h, List<String> ids, String backend) {
    String expected = String.join("", FakeAnthropicServer.words(CHUNKS));
    boolean pass = true;
    log.info("backend={} chunks/reply={} chunk delay={} ms (worker: delta_interval_ms=50, checkpoint_interval_ms=1000)",
        backend, CHUNKS, CHUNK_DELAY_MS);
    log.info(String.format("%-26s %7s %7s %11s %13s %14s %8s %s", "reply", "chunks", "deltas", "checkpoints",
        "delta gap ms", "checkpoint gap", "stream s", "content"));
    for (String id : ids) {
      ChatMessage m = h.finalReply(id).result();
      List<Long> d = deltaTimes.getOrDefault(id, List.of());
      List<Long> c = checkpointTimes.getOrDefault(id, List.of());
      List<Double> dGaps = Bench.intervals(d).stream().map(n -> n / 1e6).toList();
      List<Double> cGaps = Bench.intervals(c).stream().map(n -> n / 1e6).toList();
      double streamS = d.size() < 2 ? 0 : (d.get(d.size() - 1) - d.get(0)) / 1e9;
      boolean contentOk = m.status() == MessageStatus.COMPLETED && expected.equals(m.content())
          && expected.equals(h.deltaText(id)) && h.finalEvents(id).size() == 1;
      double dMean = Bench.mean(dGaps);
      double cMean = Bench.mean(cGaps);
      boolean ok = contentOk && d.size() < CHUNKS / 4 && dMean >= 30 && dMean <= 100
          && !c.isEmpty() && (cGaps.isEmpty() || (cMean >= 700 && cMean <= 1500));
      log.info(String.format("%-26s %7d %7d %11d %6.1f (p99 %3.0f) %7.0f ms %4s %8.2f %s  %s", id, CHUNKS, d.size(),
          c.size(), dMean, Bench.percentile(dGaps, 99), cMean, cGaps.isEmpty() ? "(1)" : "", streamS,
          contentOk ? "exact" : "MISMATCH", Bench.verdict(ok)));
      log.info("  store requests for this reply: {}", summarize(storeWrites.getOrDefault(id, List.of())));
      pass &= ok;
    }
    log.info("criteria: deltas < chunks/4, mean delta gap 30-100 ms, >=1 checkpoint and mean checkpoint gap 0.7-1.5 s, "
        + "content == what the fake sent == concatenated deltas, exactly one final event");
    return pass;
  }

  private static String summarize(List<String> actions) {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    actions.forEach(a -> counts.merge(a, 1, Integer::sum));
    return counts.toString();
  }
}
