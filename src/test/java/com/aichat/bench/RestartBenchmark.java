package com.aichat.bench;

import com.aichat.cluster.RestartScenario;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restart recovery of a single node on the default durable store ({@code h2}): {@link RestartScenario}
 * with 20 replies streaming when the node's JVM is SIGKILLed and started again on the same data
 * directory (shipped {@code worker.lease_ms} 30 s, sweep every 5 s). Reports, per interrupted reply, the
 * time from the restarted node answering ({@code /health/ready} 200) to the reply's completion (its final
 * write), with {@code node.reclaim_leases} off ("before": the node waits out its own earlier leases) and
 * on ("after"); and checks every reply completed exactly once (attempt 2, the retry's text, 2 provider
 * requests). Each retry streams 60 chunks 50 ms apart (about 3 s).
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.RestartBenchmark [-Dbench.modes=before,after]}
 */
public final class RestartBenchmark {

  private static final Logger log = LoggerFactory.getLogger(RestartBenchmark.class);
  private static final int REPLIES = 20;

  public static void main(String[] args) throws Exception {
    boolean ok = true;
    for (String mode : System.getProperty("bench.modes", "before,after").split(",")) {
      boolean reclaim = mode.trim().equals("after");
      try (RestartScenario run = new RestartScenario(new RestartScenario.Options(REPLIES, 60, 50, reclaim))) {
        run.start();
        run.sendAll();
        RestartScenario.Result result = run.killAndRestart(Duration.ofSeconds(180));
        int once = 0;
        for (int k = 0; k < run.sent().size(); k++) {
          RestartScenario.Sent s = run.sent().get(k);
          JsonObject f = result.finals().get(k);
          if ("completed".equals(f.getString("status")) && run.retry(s.index()).equals(f.getString("content"))
              && f.getInteger("attempts") == 2 && run.requestsFor(s.index()) == 2) {
            once++;
          }
        }
        List<Long> ms = result.completionMs();
        boolean pass = once == REPLIES && (!reclaim || ms.stream().allMatch(t -> t < 5000));
        ok &= pass;
        log.info("RESULT {} (node.reclaim_leases={}): {} of {} interrupted replies completed exactly once; restarted"
                + " node answering -> completion: {} -> {}", mode.trim(), reclaim, once, REPLIES, stats(ms),
            Bench.verdict(pass));
      }
    }
    System.exit(ok ? 0 : 1);
  }

  private static String stats(List<Long> ms) {
    List<Long> s = ms.stream().sorted().toList();
    return "min " + s.get(0) + " ms, p50 " + s.get(s.size() / 2) + " ms, p90 "
        + s.get((int) Math.min(s.size() - 1, Math.round(s.size() * 0.9))) + " ms, max " + s.get(s.size() - 1) + " ms";
  }
}
