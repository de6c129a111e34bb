package com.aichat.cluster;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * One single-node deployment in a child JVM on the default durable store ({@code h2}), with the
 * shipped {@code worker.lease_ms} (30 s) and sweep cadence, SIGKILLed while its replies stream and
 * started again on the same data directory: for the restart-recovery test and benchmark. Claude is the
 * {@link FakeAnthropicServer} in this JVM; reply {@code i} streams {@link #first(int)} on its first
 * attempt (long enough to be cut by the kill) and {@link #retry(int)} on any later one, so a text mixing
 * two attempts cannot look right.
 */
public final class RestartScenario implements AutoCloseable {

  /**
   * The shape of one run: {@code replies} replies of as many users; the retry streams
   * {@code retryChunks} chunks {@code retryDelayMs} apart; {@code reclaimLeases} is
   * {@code node.reclaim_leases}; {@code clustered} runs the node as a (one-member) Hazelcast cluster,
   * where its lease-owner name is its cluster node id, new on every start.
   */
  public record Options(int replies, int retryChunks, long retryDelayMs, boolean reclaimLeases, boolean clustered) {

    public Options(int replies, int retryChunks, long retryDelayMs, boolean reclaimLeases) {
      this(replies, retryChunks, retryDelayMs, reclaimLeases, false);
    }
  }

  /** A reply the run sent: its index (script key), session and id, and its user's client. */
  public record Sent(int index, String sessionId, String id, ClusterClient client) {}

  /** What the restart gave: when the restarted node answered, and every reply as stored once final. */
  public record Result(long readyAtMs, List<JsonObject> finals) {

    /** Per reply, from the restarted node answering to the reply's final write (its {@code updatedAt}). */
    public List<Long> completionMs() {
      return finals.stream().map(f -> Instant.parse(f.getString("updatedAt")).toEpochMilli() - readyAtMs).toList();
    }
  }

  private static final int FIRST_CHUNKS = 2000;
  private static final long FIRST_DELAY_MS = 50;

  public final Options options;
  public final Vertx vertx = Vertx.vertx();
  public final FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
  public final ClusterHarness harness = new ClusterHarness();
  public ClusterHarness.Node node;
  private final List<Sent> sent = new ArrayList<>();

  public RestartScenario(Options options) {
    this.options = options;
  }

  public static String key(int i) {
    return "[restart-" + i + "]";
  }

  private static List<String> chunks(String prefix, int i, int n) {
    return IntStream.range(0, n).mapToObj(k -> prefix + i + "." + k + " ").toList();
  }

  public String first(int i) {
    return String.join("", chunks("a", i, FIRST_CHUNKS));
  }

  public String retry(int i) {
    return String.join("", chunks("b", i, options.retryChunks()));
  }

  public List<Sent> sent() {
    return sent;
  }

  /** Starts the fake provider and the node; returns once it is ready. */
  public void start() throws Exception {
    FailoverScenario.await(fake.start(), 10);
    JsonObject overrides = GenerationHarness.claudeOverrides(fake);
    overrides.getJsonObject("claude").put("first_event_timeout_ms", 10_000).put("idle_timeout_ms", 20_000)
        .put("total_timeout_ms", 300_000).put("connect_timeout_ms", 5000);
    // the shipped lease, checkpoint and sweep cadence: without taking its leases back, a restarted node
    // waits for them to run out
    overrides.put("worker", new JsonObject().put("lease_ms", 30_000).put("checkpoint_interval_ms", 1000)
        .put("max_per_user", 2).put("max_attempts", 4));
    overrides.put("dispatch", new JsonObject().put("sweep_interval_ms", 5000).put("pending_grace_ms", 15_000));
    overrides.put("mongo", new JsonObject().put("embedded_backend", "h2"));
    overrides.put("titles", new JsonObject().put("enabled", false));
    overrides.put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000));
    overrides.put("node", new JsonObject().put("reclaim_leases", options.reclaimLeases()));
    node = harness.node("solo", overrides);
    if (!options.clustered()) {
      node.standalone();
    }
    node.start();
    node.awaitReady(Duration.ofSeconds(60));
  }

  /** Scripts every reply and sends one message per user; returns once every reply streams. */
  public void sendAll() throws Exception {
    WebClient http = WebClient.create(vertx);
    List<Future<Sent>> sends = new ArrayList<>();
    for (int i = 0; i < options.replies(); i++) {
      int index = i;
      fake.script(key(i), FakeAnthropicServer.stream(chunks("a", i, FIRST_CHUNKS), FIRST_DELAY_MS),
          FakeAnthropicServer.stream(chunks("b", i, options.retryChunks()), options.retryDelayMs()));
      ClusterClient c = new ClusterClient(http, TestTokens.token(vertx, TestTokens.newUserId()));
      sends.add(c.createSession(node, "restart " + i)
          .compose(sid -> c.send(node, sid, "Tell me something " + key(index))
              .map(reply -> new Sent(index, sid, reply.getString("id"), c))));
    }
    sent.addAll(FailoverScenario.await(Future.all(sends), 60).list());
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (fake.requests().size() < options.replies()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + fake.requests().size() + " of " + options.replies() + " streams started:\n"
            + node.tail());
      }
      FailoverScenario.sleep(20);
    }
  }

  /**
   * SIGKILLs the node mid-stream, starts it again on the same data directory, and waits (at most
   * {@code timeout}) for every reply to be final.
   */
  public Result killAndRestart(Duration timeout) throws Exception {
    node.kill();
    if (node.exitValue() != 137) {
      throw new AssertionError("the node exited with " + node.exitValue() + ", not by SIGKILL");
    }
    node.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (node.httpStatus("/health/ready") != 200) {
      if (!node.alive() || System.nanoTime() > deadline) {
        throw new AssertionError("the restarted node is not ready:\n" + node.tail());
      }
      FailoverScenario.sleep(10);
    }
    long readyAt = System.currentTimeMillis();
    List<JsonObject> finals = new ArrayList<>();
    long end = System.nanoTime() + timeout.toNanos();
    for (Sent s : sent) {
      Duration left = Duration.ofNanos(Math.max(1_000_000_000L, end - System.nanoTime()));
      finals.add(FailoverScenario.await(s.client().awaitFinal(node, s.sessionId(), s.id(), left),
          (int) left.toSeconds() + 30));
    }
    return new Result(readyAt, finals);
  }

  /** Provider requests made for reply {@code i} (its attempts that reached the provider). */
  public int requestsFor(int i) {
    return fake.requestsFor(key(i)).size();
  }

  @Override
  public void close() {
    harness.close();
    try {
      FailoverScenario.await(fake.close(), 10);
    } catch (Exception e) {
      // closing anyway
    }
    vertx.close();
  }
}
