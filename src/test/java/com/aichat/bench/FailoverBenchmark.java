package com.aichat.bench;

import com.aichat.cluster.ClusterHarness;
import com.aichat.cluster.FailoverScenario;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery time of a lost worker node's replies, before and after {@code dispatch.release_on_node_loss}:
 * the four-JVM {@link FailoverScenario} (store, two workers, front; 50 slow replies to real Socket.IO
 * clients, the shipped {@code worker.lease_ms} of 30 s), one worker JVM SIGKILLed mid-stream. Reports,
 * per restarted reply, SIGKILL → the restarted {@code message.processing} at its client (same machine
 * clock), with the release off ("before": the sweep waits for the lease to run out) and on ("after").
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.FailoverBenchmark [-Dbench.modes=before,after]}
 */
public final class FailoverBenchmark {

  private static final Logger log = LoggerFactory.getLogger(FailoverBenchmark.class);

  public static void main(String[] args) throws Exception {
    for (String mode : System.getProperty("bench.modes", "before,after").split(",")) {
      boolean release = mode.trim().equals("after");
      List<Long> ms = run(release);
      log.info("RESULT {} (dispatch.release_on_node_loss={}): SIGKILL -> restarted message.processing: {}",
          mode.trim(), release, stats(ms));
    }
    System.exit(0);
  }

  private static List<Long> run(boolean release) throws Exception {
    JsonObject overrides = new JsonObject().put("dispatch", new JsonObject().put("release_on_node_loss", release));
    // first attempts stream ~45 s, so even the lease-bound restart happens mid-stream
    FailoverScenario.Options opts = new FailoverScenario.Options(10, 5, 300, 150, 20, 60, overrides, List.of());
    try (FailoverScenario run = new FailoverScenario(opts)) {
      run.start();
      run.connectClients();
      List<FailoverScenario.Sent> sent = run.sendAll();
      run.awaitStreams(run.total(), Duration.ofSeconds(60));
      ClusterHarness.Node victim = run.busierWorker();
      Set<String> onVictim = FailoverScenario.claimedOn(victim);
      FailoverScenario.sleep(2000);
      long killAt = System.currentTimeMillis();
      victim.kill();
      List<JsonObject> finals = run.awaitFinals(sent, Duration.ofSeconds(180));
      long completed = finals.stream().filter(f -> "completed".equals(f.getString("status"))).count();
      JsonObject seen = run.clientView().getJsonObject("replies");
      List<Long> ms = FailoverScenario.recoveryTimes(seen, onVictim, killAt);
      log.info("{} of {} replies completed; {} were on the killed worker, {} seen restarted", completed, sent.size(),
          onVictim.size(), ms.size());
      return ms;
    }
  }

  private static String stats(List<Long> ms) {
    if (ms.isEmpty()) {
      return "none";
    }
    List<Long> s = ms.stream().sorted().toList();
    return "n=" + s.size() + ", min " + s.get(0) + " ms, p50 " + s.get(s.size() / 2) + " ms, p90 "
        + s.get((int) Math.min(s.size() - 1, Math.round(s.size() * 0.9))) + " ms, max " + s.get(s.size() - 1) + " ms";
  }
}
