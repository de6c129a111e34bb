package com.aichat;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.AppConfig;
import com.aichat.ops.Readiness;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Vert.x nodes in one Hazelcast cluster (loopback TCP join): node A runs persistence, dispatcher
 * and worker; node B runs only the HTTP API. A message sent to node B's REST API is stored and answered
 * by node A, which shows that the verticles meet only on the (clustered) event bus.
 */
@ExtendWith(VertxExtension.class)
class ClusterDeploymentTest {

  @TempDir static Path dataDir;
  private static Vertx nodeA;
  private static Vertx nodeB;
  private static int apiPort;

  @BeforeAll
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  static void startCluster(VertxTestContext ctx) {
    String cluster = "chat-test-" + UUID.randomUUID();
    JsonObject backOnly =
        new JsonObject()
            .put("verticles", new JsonObject().put("api", 0).put("gateway", 0)
                .put("persistence", 1).put("dispatcher", 1).put("worker", 1));
    JsonObject apiOnly =
        new JsonObject()
            .put("verticles", new JsonObject().put("api", 1).put("gateway", 0)
                .put("persistence", 0).put("dispatcher", 0).put("worker", 0));
    AppConfig cfgA = AppConfig.from(TestApp.config(dataDir.resolve("a"), backOnly));
    AppConfig cfgB = AppConfig.from(TestApp.config(dataDir.resolve("b"), apiOnly));
    apiPort = cfgB.http().port();
    clustered(cluster)
        .compose(a -> {
          nodeA = a;
          return Main.start(a, cfgA);
        })
        .compose(ids -> clustered(cluster))
        .compose(b -> {
          nodeB = b;
          return Main.start(b, cfgB);
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  private static Future<Vertx> clustered(String clusterName) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(clusterName);
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "slf4j");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(5701).setPortAutoIncrement(true);
    net.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1");
    return Vertx.builder()
        .with(options)
        .withClusterManager(new HazelcastClusterManager(hz))
        .buildClustered();
  }

  @AfterAll
  static void stopCluster(VertxTestContext ctx) {
    Future<Void> b = nodeB == null ? Future.succeededFuture() : nodeB.close();
    b.eventually(() -> nodeA == null ? Future.succeededFuture() : nodeA.close())
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A message sent to the API on one node is stored and answered by verticles on another node")
  void replyCrossesNodes(VertxTestContext ctx) {
    WebClient http = WebClient.create(nodeB);
    String token = TestTokens.token(nodeB, TestTokens.newUserId());
    http.post(apiPort, "127.0.0.1", "/chats")
        .bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject().put("title", "across nodes"))
        .compose(r -> http.post(apiPort, "127.0.0.1", "/chats/" + r.bodyAsJsonObject().getString("id") + "/messages")
            .bearerTokenAuthentication(token)
            .sendJsonObject(new JsonObject().put("content", "Hello from node B")))
        .compose(r -> {
          JsonObject reply = r.bodyAsJsonObject().getJsonObject("reply");
          String url = "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id");
          return awaitCompleted(http, token, url, 200);
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getString("status")).isEqualTo("completed");
          assertThat(reply.getString("model")).contains("offline");
          assertThat(reply.getString("content")).contains("Hello from node B");
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("/health/ready on a clustered node checks its membership: ok with both nodes counted")
  void readinessSeesClusterMembership(VertxTestContext ctx) {
    WebClient http = WebClient.create(nodeB);
    http.get(apiPort, "127.0.0.1", "/health/ready").send()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          // node B's config says cluster.enabled=false (the test builds its clustered Vert.x itself), so
          // its router reports the cluster check as not enabled; ask Readiness with clustering on
          assertThat(r.statusCode()).isEqualTo(200);
          AppConfig clustered = AppConfig.from(TestApp.config(dataDir.resolve("b2"),
              new JsonObject().put("cluster", new JsonObject().put("enabled", true))
                  .put("verticles", new JsonObject().put("api", 1).put("gateway", 0)
                      .put("persistence", 0).put("dispatcher", 0).put("worker", 0))));
          new Readiness(nodeB, clustered.deployment(), clustered.providers(), ChatStore.client(nodeB)).check()
              .onComplete(ctx.succeeding(report -> ctx.verify(() -> {
                JsonObject cluster = report.getJsonObject("checks").getJsonObject("cluster");
                assertThat(cluster.getBoolean("ok")).isTrue();
                assertThat(cluster.getInteger("members")).isEqualTo(2);
                assertThat(report.getString("status")).isEqualTo("ready");
                ctx.completeNow();
              })));
        })));
  }

  private static Future<JsonObject> awaitCompleted(WebClient http, String token, String url, int triesLeft) {
    return http.get(apiPort, "127.0.0.1", url)
        .bearerTokenAuthentication(token)
        .send()
        .compose(r -> {
          JsonObject m = r.bodyAsJsonObject();
          if ("completed".equals(m.getString("status")) || triesLeft <= 0) {
            return Future.succeededFuture(m);
          }
          Promise<JsonObject> next = Promise.promise();
          nodeB.setTimer(100, t -> awaitCompleted(http, token, url, triesLeft - 1).onComplete(next));
          return next.future();
        });
  }
}
