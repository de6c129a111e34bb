package com.aichat.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single node on the default durable store, SIGKILLed while 5 replies stream and started again on the
 * same data directory ({@link RestartScenario}, the shipped 30 s lease): it takes back what its earlier
 * incarnation held at once, so every interrupted reply completes exactly once (one more provider request,
 * the retry's text only) within 5 s of the restarted node answering, where it used to wait out the
 * leases (about 34 s). A second process started on the same data directory while the node runs refuses
 * to start, so it cannot take the live node's leases for its own earlier incarnation's. A clustered node
 * does the same under a new cluster node id, with no other member to notice that it left.
 */
class RestartRecoveryTest {

  private static final Logger log = LoggerFactory.getLogger(RestartRecoveryTest.class);

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  @DisplayName("kill -9 mid-stream and a restart on the same data dir: 5 of 5 replies complete exactly once within 5 s of the node answering; a second process on that dir refuses to start")
  void restartTakesBackItsLeasesAtOnce() throws Exception {
    try (RestartScenario run = new RestartScenario(new RestartScenario.Options(5, 20, 50, true))) {
      run.start();
      run.sendAll();
      assertTakenBackOnce(run, run.killAndRestart(Duration.ofSeconds(90)), "restart");

      // a second process on the same data directory while the node runs
      JsonObject intruderConfig = run.node.config().copy();
      intruderConfig.getJsonObject("node").put("data_dir", run.node.dataDir().toString());
      intruderConfig.remove("cluster");
      intruderConfig.remove("http"); // ports of its own: it is the lock that must stop it
      intruderConfig.remove("gateway");
      ClusterHarness.Node intruder = run.harness.node("intruder", intruderConfig).standalone();
      intruder.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (intruder.alive()) {
        assertThat(System.nanoTime()).as("the second process is still running:\n" + intruder.tail()).isLessThan(deadline);
        TimeUnit.MILLISECONDS.sleep(50);
      }
      assertThat(intruder.exitValue()).isEqualTo(1);
      assertThat(intruder.logText()).contains("is in use by another running node");
      assertThat(run.node.httpStatus("/health/ready")).isEqualTo(200);
    }
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  @DisplayName("A clustered node (one Hazelcast member, so no other dispatcher sees it leave) killed mid-stream and back under the same identity while its leases run: 3 of 3 replies complete exactly once within 5 s of it answering")
  void clusteredNodeBackUnderItsIdentityTakesBackItsLeases() throws Exception {
    try (RestartScenario run = new RestartScenario(new RestartScenario.Options(3, 20, 50, true, true))) {
      run.start();
      run.sendAll();
      assertTakenBackOnce(run, run.killAndRestart(Duration.ofSeconds(90)), "clustered restart");
    }
  }

  /**
   * Every interrupted reply completed once, with the retry's text only (two attempts, two provider
   * requests), within 5 s of the restarted node answering, and the node says it took them back.
   */
  private static void assertTakenBackOnce(RestartScenario run, RestartScenario.Result result, String what) {
    List<Long> ms = result.completionMs();
    log.info("{}: node answering -> interrupted replies completed: {}", what, WorkerFailoverTest.summary(ms));
    for (int k = 0; k < run.sent().size(); k++) {
      RestartScenario.Sent s = run.sent().get(k);
      JsonObject stored = result.finals().get(k);
      assertThat(stored.getString("status")).as("reply %d", s.index()).isEqualTo("completed");
      assertThat(stored.getString("content")).as("reply %d holds the retry's text only", s.index())
          .isEqualTo(run.retry(s.index()));
      assertThat(stored.getInteger("attempts")).as("attempts of reply %d", s.index()).isEqualTo(2);
      assertThat(run.requestsFor(s.index())).as("provider requests of reply %d", s.index()).isEqualTo(2);
    }
    assertThat(ms).as("ms from the restarted node answering to each reply's completion").allSatisfy(
        t -> assertThat(t).isLessThan(5000));
    assertThat(run.node.logText()).contains("took back " + run.sent().size() + " replies that earlier incarnations");
  }
}
