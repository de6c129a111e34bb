package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First-delta latency on an idle node: one message at a time over real HTTP, the fake Claude sending its
 * first text chunk 1 ms after {@code message_start}. Reports, per reply, POST → first
 * {@code chat.events.delta} on the bus, and the worker's share of it: the fake receiving the request →
 * first delta. The shipped worker cadence is used ({@code delta_interval_ms} 50), so before leading-edge
 * deltas the first delta waited for the coalescing tick.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.FirstDeltaBenchmark [-Dbench.backend=h2] [-Dbench.replies=40]}
 */
public final class FirstDeltaBenchmark {

  private static final Logger log = LoggerFactory.getLogger(FirstDeltaBenchmark.class);

  /** Replies measured (after {@value #WARMUP} warm-up replies); bounded. */
  private final int replies = Math.min(200, Integer.getInteger("bench.replies", 40));

  private static final int WARMUP = 5;

  private final Map<String, Long> firstDeltaAtMs = new ConcurrentHashMap<>();
  private final Map<String, Promise<Void>> firstDelta = new ConcurrentHashMap<>();

  public static void main(String[] args) {
    String backend = System.getProperty("bench.backend", "memory");
    Bench.run("FirstDeltaBenchmark[" + backend + "]", 120, vertx -> new FirstDeltaBenchmark().run(vertx, backend));
  }

  private Future<Boolean> run(Vertx vertx, String backend) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> {
      String id = m.body().getString("messageId");
      if (firstDeltaAtMs.putIfAbsent(id, System.currentTimeMillis()) == null) {
        promise(id).tryComplete();
      }
    });
    return Bench.start(vertx, backend, null).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(20), 1));
      WebClient http = Bench.client(vertx, 2);
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      int port = h.app().httpPort();
      List<long[]> samples = new ArrayList<>();
      return Bench.newSession(http, port, token, "first delta")
          .compose(sessionId -> sequence(vertx, h, http, port, token, sessionId, 0, samples))
          .map(v -> report(samples, backend))
          .eventually(() -> h.close());
    });
  }

  private Promise<Void> promise(String id) {
    return firstDelta.computeIfAbsent(id, k -> Promise.promise());
  }

  /** Sends reply {@code i}, waits for it to finish, records [POST → first delta, request → first delta]. */
  private Future<Void> sequence(Vertx vertx, GenerationHarness h, WebClient http, int port, String token,
      String sessionId, int i, List<long[]> samples) {
    if (i >= WARMUP + replies) {
      return Future.succeededFuture();
    }
    String question = "latency question " + i;
    long postedAt = System.currentTimeMillis();
    return Bench.send(http, port, token, sessionId, question)
        .compose(id -> promise(id).future()
            .compose(v -> h.finalReply(id))
            .map(reply -> {
              if (reply.status() != MessageStatus.COMPLETED) {
                throw new IllegalStateException("reply " + id + " ended " + reply.status());
              }
              Recorded req = h.fake().requests().stream()
                  .filter(r -> r.lastUserText().contains(question)).findFirst().orElseThrow();
              long first = firstDeltaAtMs.get(id);
              if (i >= WARMUP) {
                samples.add(new long[] {first - postedAt, first - req.receivedAtMs()});
              }
              return null;
            }))
        .compose(v -> {
          Promise<Void> idle = Promise.promise();
          vertx.setTimer(50, t -> idle.complete()); // an idle node between replies
          return idle.future();
        })
        .compose(v -> sequence(vertx, h, http, port, token, sessionId, i + 1, samples));
  }

  private boolean report(List<long[]> samples, String backend) {
    List<Long> total = samples.stream().map(s -> s[0]).toList();
    List<Long> worker = samples.stream().map(s -> s[1]).toList();
    log.info("backend={} replies={} (after {} warm-up), fake: first chunk 1 ms after message_start", backend,
        samples.size(), WARMUP);
    log.info(String.format("%-40s %8s %8s %8s %8s", "", "p50 ms", "p90 ms", "max ms", "mean ms"));
    log.info(String.format("%-40s %8.0f %8.0f %8.0f %8.1f", "POST -> first delta", Bench.percentile(total, 50),
        Bench.percentile(total, 90), Bench.percentile(total, 100), Bench.mean(total)));
    log.info(String.format("%-40s %8.0f %8.0f %8.0f %8.1f", "provider request received -> first delta",
        Bench.percentile(worker, 50), Bench.percentile(worker, 90), Bench.percentile(worker, 100), Bench.mean(worker)));
    return samples.size() == replies;
  }
}
