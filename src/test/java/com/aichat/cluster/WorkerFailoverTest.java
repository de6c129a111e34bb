package com.aichat.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 14 part 2: a worker node lost mid-stream in a four-JVM cluster ({@link FailoverScenario}).
 * Killed with SIGKILL, its replies restart on the other worker as soon as the dispatchers hear from
 * Hazelcast that the node left (not when {@code worker.lease_ms}, 30 s here, runs out), and every reply
 * ends completed exactly once with one attempt's text. Paused with SIGSTOP until the cluster gave its
 * replies to the other worker, then resumed, it cannot write anything that reaches a client or the store.
 */
class WorkerFailoverTest {

  private static final Logger log = LoggerFactory.getLogger(WorkerFailoverTest.class);
  private static final Pattern WORKER_STARTED = Pattern.compile("AI worker ([0-9a-f-]{36})/\\S+ started");

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  @DisplayName("SIGKILL of a worker JVM mid-stream: its replies restart on the other worker at once, 50 of 50 complete exactly once, no client sees mixed text")
  void killedWorkerNode() throws Exception {
    FailoverScenario.Options opts = new FailoverScenario.Options(10, 5, 80, 200, 20, 60, new JsonObject(), List.of());
    try (FailoverScenario run = new FailoverScenario(opts)) {
      run.start();
      run.connectClients();
      List<FailoverScenario.Sent> sent = run.sendAll();
      run.awaitStreams(run.total(), Duration.ofSeconds(60));
      assertThat(sweepLeaders(run)).as("dispatcher nodes running the recovery sweep").isEqualTo(1);

      ClusterHarness.Node victim = busier(run);
      Set<String> onVictim = claimedOn(victim);
      String victimNode = nodeId(victim);
      FailoverScenario.sleep(1000);
      long killAt = System.currentTimeMillis();
      victim.kill();

      List<JsonObject> finals = run.awaitFinals(sent, Duration.ofSeconds(120));
      JsonObject seen = run.clientView().getJsonObject("replies");
      List<Long> recovery = checkReplies(run, sent, finals, seen, onVictim, killAt);

      int released = 0;
      for (ClusterHarness.Node n : List.of(run.store, run.workerA, run.workerB)) {
        if (n != victim) {
          Matcher m = Pattern.compile("node " + victimNode + " left the cluster: ended the leases of (\\d+) replies")
              .matcher(n.logText());
          while (m.find()) {
            released += Integer.parseInt(m.group(1));
          }
        }
      }
      log.info("SIGKILL failover: {} of {} replies restarted; kill -> restarted message.processing at the clients: {}",
          onVictim.size(), sent.size(), summary(recovery));
      assertThat(released).as("replies whose leases the dispatchers ended on the node's loss").isEqualTo(onVictim.size());
    }
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  @DisplayName("A worker JVM paused (SIGSTOP) until its replies went to the other worker, then resumed, has its late deltas and writes refused")
  void pausedWorkerNodeIsFenced() throws Exception {
    FailoverScenario.Options opts = new FailoverScenario.Options(2, 3, 120, 120, 20, 60, new JsonObject(),
        List.of("-Dhazelcast.heartbeat.interval.seconds=1", "-Dhazelcast.max.no.heartbeat.seconds=6"));
    try (FailoverScenario run = new FailoverScenario(opts)) {
      run.start();
      run.connectClients();
      List<FailoverScenario.Sent> sent = run.sendAll();
      run.awaitStreams(run.total(), Duration.ofSeconds(60));
      ClusterHarness.Node victim = busier(run);
      Set<String> onVictim = claimedOn(victim);
      String victimNode = nodeId(victim);
      FailoverScenario.sleep(1000);
      long pausedAt = System.currentTimeMillis();
      victim.pause();
      try {
        ClusterHarness.Node survivor = victim == run.workerA ? run.workerB : run.workerA;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        // every reply of the paused node claimed again by the survivor (a second provider request)
        while (!sent.stream().filter(s -> onVictim.contains(s.id()))
            .allMatch(s -> run.fake.requestsFor(FailoverScenario.key(s.index())).size() >= 2)) {
          assertThat(System.nanoTime()).as("replies restarted while the node is paused:\n" + survivor.tail())
              .isLessThan(deadline);
          FailoverScenario.sleep(100);
        }
        FailoverScenario.sleep(1500);
      } finally {
        victim.resume();
      }
      long resumedAt = System.currentTimeMillis();
      List<JsonObject> finals = run.awaitFinals(sent, Duration.ofSeconds(120));
      JsonObject seen = run.clientView().getJsonObject("replies");
      List<Long> recovery = checkReplies(run, sent, finals, seen, onVictim, pausedAt);

      // after SIGCONT the paused worker learnt it lost every lease, and wrote nothing that was kept
      String after = victim.logText();
      for (String id : onVictim) {
        assertThat(after).as("the resumed worker gave up reply " + id).containsPattern(
            "reply " + id + ": (stop requested \\(LEASE_LOST\\)|lease lost or reply gone|final write refused)");
      }
      int fenced = countMatches(run.front.logText(), "dropped a delta of attempt 1");
      log.info("SIGSTOP for {} ms: {} replies restarted; pause -> restarted message.processing: {}; the gateway"
              + " fenced late deltas of {} (socket, reply) pairs after SIGCONT (node {})",
          resumedAt - pausedAt, onVictim.size(), summary(recovery), fenced, victimNode);
    }
  }

  /**
   * Every reply completed once with exactly one attempt's text: the retry's for those the victim held
   * (attempt 2), the first otherwise; clients assembled exactly that text, saw the restart as a new
   * {@code message.processing} followed by deltas, and no delta after the final event. Returns, per
   * restarted reply, the time from {@code lostAt} to the restarted {@code message.processing}.
   */
  private static List<Long> checkReplies(FailoverScenario run, List<FailoverScenario.Sent> sent, List<JsonObject> finals,
      JsonObject seen, Set<String> onVictim, long lostAt) {
    assertThat(onVictim).isNotEmpty();
    List<Long> recovery = new ArrayList<>();
    Map<String, String> problems = new HashMap<>();
    for (int k = 0; k < sent.size(); k++) {
      FailoverScenario.Sent s = sent.get(k);
      JsonObject stored = finals.get(k);
      boolean restarted = onVictim.contains(s.id());
      String expected = restarted ? run.retry(s.index()) : run.first(s.index());
      JsonObject view = seen.getJsonObject(s.id());
      String problem = null;
      if (!"completed".equals(stored.getString("status"))) {
        problem = "status " + stored.getString("status");
      } else if (!expected.equals(stored.getString("content"))) {
        problem = "stored text is not one attempt's text: " + stored.getString("content");
      } else if (stored.getInteger("attempts") != (restarted ? 2 : 1)) {
        problem = "attempts " + stored.getInteger("attempts");
      } else if (view == null) {
        problem = "the client saw nothing";
      } else if (view.getJsonArray("finals").size() != 1
          || !"message.completed".equals(view.getJsonArray("finals").getJsonObject(0).getString("type"))) {
        problem = "final events " + view.getJsonArray("finals");
      } else if (!expected.equals(view.getString("text"))) {
        problem = "the client assembled " + view.getString("text");
      } else if (view.getInteger("violations") != 0 || view.getInteger("deltasAfterFinal") != 0
          || view.getInteger("deltasBeforeProcessing") != 0) {
        problem = "stream " + view;
      } else if (restarted) {
        JsonArray attempts = view.getJsonArray("attempts");
        JsonObject last = attempts.getJsonObject(attempts.size() - 1);
        if (attempts.size() < 2 || last.getInteger("attempt") != 2 || last.getInteger("deltas") == 0
            || last.getLong("at") < lostAt) {
          problem = "restart not seen as processing then deltas: " + attempts;
        } else {
          recovery.add(last.getLong("at") - lostAt);
        }
      }
      if (problem != null) {
        problems.put(s.id(), problem);
      }
    }
    assertThat(problems).as("replies that did not end right").isEmpty();
    return recovery;
  }

  private static ClusterHarness.Node busier(FailoverScenario run) {
    return run.busierWorker();
  }

  private static Set<String> claimedOn(ClusterHarness.Node n) {
    return FailoverScenario.claimedOn(n);
  }

  private static String nodeId(ClusterHarness.Node n) {
    Matcher m = WORKER_STARTED.matcher(n.logText());
    assertThat(m.find()).as("node id of " + n.name()).isTrue();
    return m.group(1);
  }

  /** How many dispatcher nodes took the sweep lease so far. */
  private static int sweepLeaders(FailoverScenario run) {
    int n = 0;
    for (ClusterHarness.Node node : List.of(run.store, run.workerA, run.workerB)) {
      n += countMatches(node.logText(), "now runs the recovery sweep");
    }
    return n;
  }

  private static int countMatches(String text, String literal) {
    Matcher m = Pattern.compile(Pattern.quote(literal)).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  static String summary(List<Long> ms) {
    if (ms.isEmpty()) {
      return "none";
    }
    List<Long> sorted = ms.stream().sorted().toList();
    return "min " + sorted.get(0) + " ms, median " + sorted.get(sorted.size() / 2) + " ms, max "
        + sorted.get(sorted.size() - 1) + " ms (n=" + sorted.size() + ")";
  }
}
