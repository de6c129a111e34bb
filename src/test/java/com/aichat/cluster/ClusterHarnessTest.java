package com.aichat.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The harness itself: two child JVMs form one cluster over TCP-IP on loopback, a reply sent to one
 * node's API is generated on the other, SIGKILL really kills (exit 137, the survivor sees one member),
 * and closing leaves no process and no directory behind.
 */
class ClusterHarnessTest {

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  @DisplayName("Two child JVMs form a cluster, serve a reply across nodes, die by SIGKILL and leave nothing behind")
  void twoNodeClusterLifecycle() throws Exception {
    Vertx vertx = Vertx.vertx();
    ClusterHarness.Node back;
    ClusterHarness.Node front;
    Path dir;
    try (ClusterHarness h = new ClusterHarness()) {
      dir = h.dir();
      back = h.node("back", ClusterHarness.roles(1, 1, 1, 0, 0));
      front = h.node("front", ClusterHarness.roles(0, 0, 0, 1, 1));
      h.startAll(Duration.ofSeconds(90));
      front.awaitReady(Duration.ofSeconds(30));

      ClusterClient client = new ClusterClient(WebClient.create(vertx), TestTokens.token(vertx, TestTokens.newUserId()));
      JsonObject reply = client.createSession(front, "harness")
          .compose(sid -> client.send(front, sid, "Hello across JVMs"))
          .compose(r -> client.awaitFinal(front, r.getString("sessionId"), r.getString("id"), Duration.ofSeconds(30)))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(reply.getString("status")).isEqualTo("completed");
      assertThat(reply.getString("content")).contains("Hello across JVMs");
      // the store reads completed a moment before the worker logs the end of its job: wait for the line
      back.awaitLog("reply " + reply.getString("id") + " completed", Duration.ofSeconds(20));

      back.kill();
      assertThat(back.alive()).isFalse();
      assertThat(back.exitValue()).isEqualTo(137);
      front.awaitMembers(1, Duration.ofSeconds(60));
    } finally {
      vertx.close();
    }
    assertThat(back.alive()).isFalse();
    assertThat(front.alive()).isFalse();
    assertThat(Files.exists(dir)).isFalse();
  }
}
