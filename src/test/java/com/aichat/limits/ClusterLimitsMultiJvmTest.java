package com.aichat.limits;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.cluster.ClusterClient;
import com.aichat.cluster.ClusterHarness;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster-wide limits across two real JVMs ({@link ClusterHarness}): node "back" runs persistence,
 * the dispatcher, a worker and the API; node "front" a worker and the API. Both workers stream from the
 * fake Anthropic server in this JVM, which counts the streams open at once.
 */
class ClusterLimitsMultiJvmTest {

  static final int PER_MINUTE = 20;

  private static Vertx vertx;
  private static WebClient http;
  private static FakeAnthropicServer fake;
  private static ClusterHarness harness;
  private static ClusterHarness.Node back;
  private static ClusterHarness.Node front;

  @BeforeAll
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  static void startCluster() throws Exception {
    vertx = Vertx.vertx();
    http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
    fake = new FakeAnthropicServer(vertx);
    fake.defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(20), 40));
    fake.start().await(30, TimeUnit.SECONDS);
    harness = new ClusterHarness();
    back = harness.node("back", config(ClusterHarness.roles(1, 1, 1, 1, 0)));
    front = harness.node("front", config(ClusterHarness.roles(0, 1, 0, 1, 0)));
    harness.startAll(Duration.ofSeconds(120));
    back.awaitReady(Duration.ofSeconds(30));
    front.awaitReady(Duration.ofSeconds(30));
  }

  private static JsonObject config(JsonObject roles) {
    JsonObject o = GenerationHarness.claudeOverrides(fake).mergeIn(roles)
        .put("rate_limit", new JsonObject().put("requests_per_minute", PER_MINUTE));
    o.getJsonObject("worker").put("max_per_user", 1).put("lease_ms", 5000).put("checkpoint_interval_ms", 200);
    o.getJsonObject("claude").put("idle_timeout_ms", 2000).put("first_event_timeout_ms", 2000);
    return o;
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (harness != null) {
      harness.close();
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  private static Future<HttpResponse<Buffer>> get(ClusterHarness.Node node, String token) {
    return http.get(node.httpPort(), "127.0.0.1", "/chats").bearerTokenAuthentication(token).send();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  @DisplayName("Across two API JVMs, a user's requests split over both nodes: exactly requests_per_minute admitted, the rest 429 RATE_LIMITED")
  void rateLimitAcrossJvms() throws Exception {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    ClusterLimitsTest.awayFromMinuteEdge(vertx).await(20, TimeUnit.SECONDS);
    List<HttpResponse<Buffer>> rs = new ArrayList<>();
    for (int i = 0; i < 2 * PER_MINUTE + 4; i++) {
      rs.add(get(i % 2 == 0 ? back : front, token).await(10, TimeUnit.SECONDS));
    }
    assertThat(rs.stream().filter(r -> r.statusCode() == 200).count()).isEqualTo(PER_MINUTE);
    List<HttpResponse<Buffer>> refused = rs.stream().filter(r -> r.statusCode() == 429).toList();
    assertThat(refused).hasSize(PER_MINUTE + 4);
    assertThat(refused).allSatisfy(r -> {
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("RATE_LIMITED");
      assertThat(r.getHeader("Retry-After")).isNotNull();
    });
    // one node alone would have admitted PER_MINUTE itself: both nodes refused after the first PER_MINUTE
    assertThat(rs.subList(PER_MINUTE, rs.size())).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(429));
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  @DisplayName("worker.max_per_user 1 with workers in two JVMs: the user's three replies complete one at a time")
  void generationCapAcrossJvms() throws Exception {
    ClusterClient user = new ClusterClient(http, TestTokens.token(vertx, TestTokens.newUserId()));
    List<Future<JsonObject>> replies = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ClusterHarness.Node node = i % 2 == 0 ? back : front;
      String question = "capped question " + i;
      replies.add(user.createSession(node, "capped " + i)
          .compose(sid -> user.send(node, sid, question))
          .compose(r -> awaitFinal(user, node, r)));
    }
    Future.all(replies).await(100, TimeUnit.SECONDS);
    for (Future<JsonObject> r : replies) {
      assertThat(r.result().getString("status")).isEqualTo("completed");
      assertThat(r.result().getString("content")).startsWith("w0 ").endsWith("w19 ");
    }
    // the dispatcher offers the user's second job to the other worker at once (each announces a
    // per-user cap of 1 and runs none of the user's jobs); only the cluster-wide slot refuses it
    // (counted over the replies' own requests: a session's title request may run beside another reply)
    List<FakeAnthropicServer.Recorded> streams = fake.requests().stream()
        .filter(r -> r.lastUserText() != null && r.lastUserText().startsWith("capped question ")).toList();
    assertThat(streams).as("one provider request per reply").hasSize(3);
    assertThat(ClusterLimitsTest.maxOverlap(fake, streams)).as("streams open at once").isEqualTo(1);
  }

  /** Waits for the final state with few requests: the rate limit counts the polls too. */
  private static Future<JsonObject> awaitFinal(ClusterClient user, ClusterHarness.Node node, JsonObject reply) {
    return poll(user, node, reply.getString("sessionId"), reply.getString("id"), 90);
  }

  private static Future<JsonObject> poll(ClusterClient user, ClusterHarness.Node node, String sid, String id, int left) {
    return user.get(node, sid, id)
        .recover(err -> {
          // on a slow machine the polls can use up the user's window: the answer is 429 until it
          // resets, and the client waits, as any client of the API would
          if (left > 0 && String.valueOf(err.getMessage()).contains(" 429 ")) {
            return Future.succeededFuture(new JsonObject().put("status", "rate limited"));
          }
          return Future.failedFuture(err);
        })
        .compose(m -> {
          String s = m.getString("status");
          if (s.equals("completed") || s.equals("failed") || s.equals("cancelled") || left <= 0) {
            return Future.succeededFuture(m);
          }
          io.vertx.core.Promise<JsonObject> next = io.vertx.core.Promise.promise();
          vertx.setTimer(1000, t -> poll(user, node, sid, id, left - 1).onComplete(next));
          return next.future();
        });
  }
}
