package com.aichat.cluster;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.gateway.NodeScenario;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * A four-JVM cluster streaming slow replies to real Socket.IO clients, for the failover tests and
 * benchmark: {@code store} (persistence and a dispatcher), {@code worker-a} and {@code worker-b} (an
 * AI worker and a dispatcher each, so three dispatcher nodes), and {@code front} (HTTP API and
 * gateway). Claude is the {@link FakeAnthropicServer} in the test JVM; every reply {@code i} has a
 * script: its first attempt streams {@link #first(int)}, any later one {@link #retry(int)}, so
 * a text mixing two attempts cannot look right.
 */
public final class FailoverScenario implements AutoCloseable {

  /** The shape of one run. */
  public record Options(int users, int sessionsPerUser, int firstChunks, long firstDelayMs, int retryChunks,
      long retryDelayMs, JsonObject overrides, List<String> jvmFlags) {}

  /** A reply the run sent: its index (script key), session and id, and the user's client. */
  public record Sent(int index, String sessionId, String id, ClusterClient client) {}

  public final Options options;
  public final Vertx vertx = Vertx.vertx();
  public final FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
  public final ClusterHarness harness = new ClusterHarness();
  public ClusterHarness.Node store;
  public ClusterHarness.Node workerA;
  public ClusterHarness.Node workerB;
  public ClusterHarness.Node front;
  private final List<ClusterClient> clients = new ArrayList<>();
  private final List<List<String>> sessions = new ArrayList<>();
  private NodeScenario sockets;

  public FailoverScenario(Options options) {
    this.options = options;
  }

  public static String key(int i) {
    return "[reply-" + i + "]";
  }

  private static List<String> chunks(String prefix, int i, int n) {
    return IntStream.range(0, Math.min(n, 10_000)).mapToObj(k -> prefix + i + "." + k + " ").toList();
  }

  public String first(int i) {
    return String.join("", chunks("a", i, options.firstChunks()));
  }

  public String retry(int i) {
    return String.join("", chunks("b", i, options.retryChunks()));
  }

  /** Starts the fake provider and the four JVMs; returns once the front node is ready. */
  public void start() throws Exception {
    await(fake.start(), 10);
    harness.jvmFlags(options.jvmFlags().toArray(String[]::new));
    JsonObject common = GenerationHarness.claudeOverrides(fake);
    common.getJsonObject("claude").put("first_event_timeout_ms", 10_000).put("idle_timeout_ms", 20_000)
        .put("total_timeout_ms", 300_000).put("connect_timeout_ms", 5000);
    common.put("worker", new JsonObject().put("max_per_user", options.sessionsPerUser()).put("max_attempts", 4)
        .put("delta_interval_ms", 50));
    common.put("dispatch", new JsonObject().put("sweep_interval_ms", 1000).put("pending_grace_ms", 3000));
    common.mergeIn(options.overrides(), true);
    store = harness.node("store", ClusterHarness.roles(1, 0, 1, 0, 0).mergeIn(common.copy(), true));
    workerA = harness.node("worker-a", ClusterHarness.roles(0, 1, 1, 0, 0).mergeIn(common.copy(), true));
    workerB = harness.node("worker-b", ClusterHarness.roles(0, 1, 1, 0, 0).mergeIn(common.copy(), true));
    front = harness.node("front", ClusterHarness.roles(0, 0, 0, 1, 1).mergeIn(common.copy(), true));
    harness.startAll(Duration.ofSeconds(120));
    front.awaitReady(Duration.ofSeconds(30));
  }

  /**
   * Creates the users' sessions, scripts every reply, and connects one Socket.IO client per user that
   * joins all of its sessions; returns once every client joined.
   */
  public void connectClients() throws Exception {
    WebClient http = WebClient.create(vertx);
    JsonArray clientArgs = new JsonArray();
    for (int u = 0; u < options.users(); u++) {
      ClusterClient c = new ClusterClient(http, TestTokens.token(vertx, TestTokens.newUserId()));
      clients.add(c);
      List<String> ids = new ArrayList<>();
      for (int s = 0; s < options.sessionsPerUser(); s++) {
        ids.add(await(c.createSession(front, "failover " + u + "/" + s), 20));
      }
      sessions.add(ids);
      clientArgs.add(new JsonObject().put("token", c.token()).put("join", new JsonArray(ids)));
    }
    for (int i = 0; i < total(); i++) {
      fake.script(key(i), FakeAnthropicServer.stream(chunks("a", i, options.firstChunks()), options.firstDelayMs()),
          FakeAnthropicServer.stream(chunks("b", i, options.retryChunks()), options.retryDelayMs()));
    }
    Promise<Void> ready = Promise.promise();
    sockets = NodeScenario.start(vertx, "failover",
        new JsonObject().put("url", "http://127.0.0.1:" + front.gatewayPort()).put("clients", clientArgs)
            .put("settleMs", 1500),
        r -> ready.tryComplete());
    Future.any(ready.future(), sockets.result()).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    if (!ready.future().succeeded()) {
      throw new AssertionError("socket clients did not get ready: " + sockets.result().cause());
    }
  }

  public int total() {
    return options.users() * options.sessionsPerUser();
  }

  /** Sends one message per session (reply {@code i} is the i-th); the stored replies. */
  public List<Sent> sendAll() throws Exception {
    // all at once, so the streams overlap even on a slow machine
    List<Future<Sent>> sends = new ArrayList<>();
    int i = 0;
    for (int u = 0; u < options.users(); u++) {
      for (String sid : sessions.get(u)) {
        int index = i++;
        ClusterClient c = clients.get(u);
        sends.add(c.send(front, sid, "Tell me something " + key(index))
            .map(reply -> new Sent(index, sid, reply.getString("id"), c)));
      }
    }
    return await(Future.all(sends), 60).list();
  }

  /** Waits until {@code n} provider streams started. */
  public void awaitStreams(int n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (fake.requests().size() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + fake.requests().size() + " of " + n + " streams started");
      }
      sleep(50);
    }
  }

  /** Every reply's stored state once final (or as it is after {@code timeout}). */
  public List<JsonObject> awaitFinals(List<Sent> sent, Duration timeout) throws Exception {
    List<JsonObject> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Sent s : sent) {
      long left = Math.max(1_000_000_000L, deadline - System.nanoTime());
      out.add(await(s.client().awaitFinal(front, s.sessionId(), s.id(), Duration.ofNanos(left)), 400));
    }
    return out;
  }

  /** Tells the clients to stop and returns {@code {replies: {id: ...}}} as they saw it. */
  public JsonObject clientView() throws Exception {
    sockets.send("STOP");
    return await(sockets.result(), 60);
  }

  /** The ids of the replies {@code n} logged a claim of and has not completed (yet). */
  public static java.util.Set<String> claimedOn(ClusterHarness.Node n) {
    String text = n.logText();
    java.util.Set<String> ids = new java.util.HashSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("reply ([0-9a-f]{24}) claimed by").matcher(text);
    while (m.find()) {
      ids.add(m.group(1));
    }
    java.util.regex.Matcher done = java.util.regex.Pattern.compile("reply ([0-9a-f]{24}) completed").matcher(text);
    while (done.find()) {
      ids.remove(done.group(1));
    }
    return ids;
  }

  /** The worker node that claimed more replies. */
  public ClusterHarness.Node busierWorker() {
    return claimedOn(workerA).size() >= claimedOn(workerB).size() ? workerA : workerB;
  }

  /**
   * Per reply of {@code restarted} as the clients saw it ({@link #clientView()}'s replies), the time
   * from {@code lostAt} to its last {@code message.processing}; replies not seen restarted are left out.
   */
  public static List<Long> recoveryTimes(JsonObject seen, java.util.Set<String> restarted, long lostAt) {
    List<Long> out = new ArrayList<>();
    for (String id : restarted) {
      JsonObject view = seen.getJsonObject(id);
      JsonArray attempts = view == null ? new JsonArray() : view.getJsonArray("attempts");
      if (attempts.size() >= 2) {
        out.add(attempts.getJsonObject(attempts.size() - 1).getLong("at") - lostAt);
      }
    }
    return out;
  }

  @Override
  public void close() {
    harness.close();
    try {
      await(fake.close(), 10);
    } catch (Exception e) {
      // closing anyway
    }
    vertx.close();
  }

  public static <T> T await(Future<T> f, int seconds) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
