package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.cluster.ClusterClient;
import com.aichat.cluster.ClusterHarness;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two gateway nodes behind a (client-side) load balancer, as three real JVMs ({@link ClusterHarness}):
 * "back" runs persistence, dispatcher, worker and the API; "g1" and "g2" only the Socket.IO gateway. Four
 * clients (the real socket.io-client, websocket only, each its own user and session) are spread over the
 * gateways. While every reply streams, g1 is stopped with SIGTERM (a rolling restart: it drains), its
 * clients reconnect to g2 and join again, and g1 is started again. See docs/scaling-gateways.md.
 */
class GatewayScaleOutMultiJvmTest {

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  @DisplayName("Clients spread over two gateway JVMs get exactly their own session's events; when one gateway restarts mid-reply its clients resume on the other with no gap and no repeated text")
  void twoGatewaysAndARollingRestart() throws Exception {
    Vertx vertx = Vertx.vertx();
    FakeAnthropicServer fake = new FakeAnthropicServer(vertx);
    fake.defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(150), 25));
    try (ClusterHarness h = new ClusterHarness()) {
      fake.start().await(30, TimeUnit.SECONDS);
      JsonObject common = GenerationHarness.claudeOverrides(fake);
      common.getJsonObject("claude").put("idle_timeout_ms", 3000).put("first_event_timeout_ms", 3000);
      ClusterHarness.Node back = h.node("back", common.copy().mergeIn(ClusterHarness.roles(1, 1, 1, 1, 0)));
      ClusterHarness.Node g1 = h.node("g1", common.copy().mergeIn(ClusterHarness.roles(0, 0, 0, 0, 1)));
      ClusterHarness.Node g2 = h.node("g2", common.copy().mergeIn(ClusterHarness.roles(0, 0, 0, 0, 1)));
      h.startAll(Duration.ofSeconds(150));
      back.awaitReady(Duration.ofSeconds(30));

      WebClient http = WebClient.create(vertx);
      Map<String, ClusterClient> users = new LinkedHashMap<>();
      Map<String, String> sessions = new LinkedHashMap<>();
      JsonArray clients = new JsonArray();
      for (String name : List.of("a1", "a2", "b1", "b2")) {
        ClusterClient user = new ClusterClient(http, TestTokens.token(vertx, TestTokens.newUserId()));
        String sid = user.createSession(back, "session of " + name).await(10, TimeUnit.SECONDS);
        users.put(name, user);
        sessions.put(name, sid);
        boolean onG1 = name.startsWith("a");
        JsonObject c = new JsonObject().put("name", name).put("token", user.token()).put("sessionId", sid)
            .put("url", "http://127.0.0.1:" + (onG1 ? g1 : g2).gatewayPort());
        if (onG1) {
          c.put("resumeUrl", "http://127.0.0.1:" + g2.gatewayPort());
        }
        clients.add(c);
      }

      Map<String, Future<JsonObject>> replies = new LinkedHashMap<>();
      CompletableFuture<Integer> g1Stopped = new CompletableFuture<>();
      NodeScenario scenario = NodeScenario.start(vertx, "gateways",
          new JsonObject().put("clients", clients).put("streamingDeltas", 5), ready -> {
            if ("joined".equals(ready.getString("stage"))) {
              users.forEach((name, user) -> replies.put(name,
                  user.send(back, sessions.get(name), "question of " + name)));
            } else if ("streaming".equals(ready.getString("stage"))) {
              // SIGTERM blocks until the JVM is gone: not on the event loop
              new Thread(() -> {
                g1.stop(Duration.ofSeconds(40));
                g1Stopped.complete(g1.exitValue());
              }, "stop-g1").start();
            }
          });
      JsonObject result = scenario.result().await(120, TimeUnit.SECONDS);
      assertThat(g1Stopped.get(60, TimeUnit.SECONDS)).as("g1 exit code after SIGTERM").isEqualTo(143);

      Map<String, JsonObject> byName = new LinkedHashMap<>();
      result.getJsonArray("clients").forEach(o -> byName.put(((JsonObject) o).getString("name"), (JsonObject) o));
      for (String name : users.keySet()) {
        JsonObject c = byName.get(name);
        JsonObject placeholder = replies.get(name).await(10, TimeUnit.SECONDS);
        String replyId = placeholder.getString("id");
        JsonObject stored = users.get(name).awaitFinal(back, sessions.get(name), replyId, Duration.ofSeconds(30))
            .await(40, TimeUnit.SECONDS);
        assertThat(stored.getString("status")).isEqualTo("completed");
        assertThat(c.getJsonArray("sessionIds").getList()).as(name + ": sessions of the events it got")
            .containsExactly(sessions.get(name));
        assertThat(c.getJsonObject("completed").fieldNames()).as(name + ": final events").containsExactly(replyId);
        assertThat(c.getJsonObject("completed").getJsonObject(replyId).getString("type")).isEqualTo("message.completed");
        assertThat(c.getJsonArray("violations")).as(name + ": deltas past the assembled text (gaps)").isEmpty();
        assertThat(c.getJsonObject("texts").getString(replyId)).as(name + ": assembled text").isEqualTo(stored.getString("content"));
        assertThat(c.getInteger("processing")).as(name + ": the reply was not restarted").isEqualTo(1);
        if (name.startsWith("a")) {
          assertThat(c.getBoolean("moved")).isTrue();
          assertThat(c.getBoolean("draining")).as(name + " got server.draining").isTrue();
          // the draining gateway closes the socket (its JVM may end before a disconnect packet is read)
          assertThat(c.getString("disconnectReason")).isIn("io server disconnect", "transport close");
          assertThat(c.getInteger("deltasAfterMove")).as(name + ": deltas streamed on g2 after the move").isPositive();
          // the second join's snapshot had the reply still generating, with part of its text
          JsonArray second = c.getJsonArray("snapshots").getJsonArray(1);
          assertThat(second.getJsonObject(0).getString("messageId")).isEqualTo(replyId);
          assertThat(second.getJsonObject(0).getString("status")).isEqualTo("processing");
          assertThat(second.getJsonObject(0).getInteger("length")).isPositive();
        } else {
          assertThat(c.getBoolean("moved")).isFalse();
        }
      }

      // the rolling restart ends with g1 back in the cluster
      g1.start();
      g1.awaitLog("chat-service started", Duration.ofSeconds(90));
      h.awaitMembers(3, Duration.ofSeconds(60));
    } finally {
      fake.close();
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
