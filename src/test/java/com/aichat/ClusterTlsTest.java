package com.aichat;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.AppConfig;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestCerts;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 finding 4: three nodes in one Hazelcast cluster (TCP-IP member list on loopback), built by
 * the production path ({@link Main#createVertx}) with {@code cluster.tls.*}. Nodes A (persistence,
 * dispatcher, worker) and B (HTTP API) hold certificates signed by the cluster CA; the rogue node joins
 * Hazelcast (it knows the member list and the cluster name, and even trusts the CA) but presents a
 * self-signed certificate: its event-bus requests to A fail and A never serves them.
 */
@ExtendWith(VertxExtension.class)
class ClusterTlsTest {

  private static final String PROBE = "test.cluster-tls.probe";
  private static final String ROGUE_SINK = "test.cluster-tls.rogue-sink";
  private static final AtomicInteger probesServed = new AtomicInteger();
  private static final AtomicInteger rogueReceived = new AtomicInteger();

  @TempDir static Path dir;
  private static Vertx nodeA;
  private static Vertx nodeB;
  private static Vertx rogue;
  private static int apiPort;

  private static JsonObject cluster(String name, int port, String keyStore, String trustStore) {
    return new JsonObject().put("cluster", new JsonObject()
        .put("enabled", true)
        .put("host", "127.0.0.1")
        .put("name", name)
        .put("port", port)
        .put("members", new JsonArray().add("127.0.0.1:" + port).add("127.0.0.1:" + (port + 1))
            .add("127.0.0.1:" + (port + 2)))
        .put("tls", new JsonObject()
            .put("enabled", true)
            .put("key_store", keyStore)
            .put("key_store_password", TestCerts.PASSWORD)
            .put("trust_store", trustStore)
            .put("trust_store_password", TestCerts.PASSWORD)));
  }

  private static JsonObject verticles(int persistence, int api) {
    return new JsonObject().put("verticles", new JsonObject().put("gateway", 0).put("api", api)
        .put("persistence", persistence).put("dispatcher", persistence).put("worker", persistence));
  }

  @BeforeAll
  @Timeout(value = 180, timeUnit = TimeUnit.SECONDS)
  static void startCluster(VertxTestContext ctx) {
    TestCerts certs = TestCerts.create(dir);
    String name = "chat-tls-test-" + UUID.randomUUID();
    int port = TestApp.freePort();
    AppConfig cfgA = AppConfig.from(TestApp.config(dir.resolve("a"),
        verticles(1, 0).mergeIn(cluster(name, port, certs.signedNode("node-a"), certs.trustStore()))));
    AppConfig cfgB = AppConfig.from(TestApp.config(dir.resolve("b"),
        verticles(0, 1).mergeIn(cluster(name, port, certs.signedNode("node-b"), certs.trustStore()))));
    AppConfig cfgRogue = AppConfig.from(TestApp.config(dir.resolve("r"),
        verticles(0, 0).mergeIn(cluster(name, port, certs.selfSignedNode("rogue"), certs.trustStore()))));
    apiPort = cfgB.http().port();
    Main.createVertx(Vertx.vertx(), cfgA)
        .compose(a -> {
          nodeA = a;
          a.eventBus().consumer(PROBE, m -> {
            probesServed.incrementAndGet();
            m.reply("pong");
          });
          return Main.start(a, cfgA);
        })
        .compose(ids -> Main.createVertx(Vertx.vertx(), cfgB))
        .compose(b -> {
          nodeB = b;
          return Main.start(b, cfgB);
        })
        .compose(ids -> Main.createVertx(Vertx.vertx(), cfgRogue))
        .compose(r -> {
          rogue = r;
          // a rogue consumer: trusted nodes must not deliver to it (they verify its server certificate)
          return r.eventBus().consumer(ROGUE_SINK, m -> {
            rogueReceived.incrementAndGet();
            m.reply("stolen");
          }).completion();
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterAll
  static void stopCluster(VertxTestContext ctx) {
    Future<Void> r = rogue == null ? Future.succeededFuture() : rogue.close();
    r.eventually(() -> nodeB == null ? Future.succeededFuture() : nodeB.close())
        .eventually(() -> nodeA == null ? Future.succeededFuture() : nodeA.close())
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("Over event-bus TLS, a message sent to the API on node B is stored and answered by node A")
  void replyCrossesNodesOverTls(VertxTestContext ctx) {
    WebClient http = WebClient.create(nodeB);
    String token = TestTokens.token(nodeB, TestTokens.newUserId());
    nodeB.eventBus().<String>request(PROBE, "ping", new DeliveryOptions().setSendTimeout(10_000))
        .compose(pong -> http.post(apiPort, "127.0.0.1", "/chats")
            .bearerTokenAuthentication(token)
            .sendJsonObject(new JsonObject().put("title", "over tls")))
        .compose(r -> http.post(apiPort, "127.0.0.1", "/chats/" + r.bodyAsJsonObject().getString("id") + "/messages")
            .bearerTokenAuthentication(token)
            .sendJsonObject(new JsonObject().put("content", "Hello over TLS")))
        .compose(r -> {
          JsonObject reply = r.bodyAsJsonObject().getJsonObject("reply");
          return awaitCompleted(http, token,
              "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id"), 300);
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getString("status")).isEqualTo("completed");
          assertThat(reply.getString("content")).contains("Hello over TLS");
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A node whose certificate the CA did not sign joins Hazelcast but cannot use the bus: A never serves it")
  void rogueCertificateCannotTakePart(VertxTestContext ctx) {
    String victim = TestTokens.newUserId();
    assertThat(((VertxInternal) rogue).clusterManager().getNodes()).hasSize(3);
    int servedBefore = probesServed.get();
    ChatStore rogueStore = ChatStore.client(rogue, 5_000);
    WebClient http = WebClient.create(nodeB);
    rogue.eventBus().<String>request(PROBE, "ping", new DeliveryOptions().setSendTimeout(5_000))
        .map(pong -> "probe answered: " + pong)
        .otherwise(err -> "refused")
        .compose(probe -> rogueStore.createSession(victim, null, "planted by the rogue node")
            .map(s -> probe + ", session planted")
            .otherwise(err -> probe + ", store refused"))
        .compose(outcome -> http.get(apiPort, "127.0.0.1", "/chats")
            .bearerTokenAuthentication(TestTokens.token(nodeB, victim))
            .send()
            .map(list -> new JsonObject().put("outcome", outcome).put("sessions", list.bodyAsJsonObject())))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.getString("outcome")).isEqualTo("refused, store refused");
          assertThat(probesServed.get()).as("probes node A served for the rogue").isEqualTo(servedBefore);
          assertThat(r.getJsonObject("sessions").getJsonArray("items")).isEmpty();
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 90, timeUnit = TimeUnit.SECONDS)
  @DisplayName("A trusted node does not deliver to a consumer on the rogue node (its server certificate is not trusted)")
  void trustedNodesDoNotSendToRogue(VertxTestContext ctx) {
    nodeB.eventBus().<String>request(ROGUE_SINK, "user data", new DeliveryOptions().setSendTimeout(5_000))
        .map(reply -> "delivered: " + reply.body())
        .otherwise(err -> "not delivered")
        .onComplete(ctx.succeeding(outcome -> ctx.verify(() -> {
          assertThat(outcome).isEqualTo("not delivered");
          assertThat(rogueReceived.get()).isZero();
          ctx.completeNow();
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
