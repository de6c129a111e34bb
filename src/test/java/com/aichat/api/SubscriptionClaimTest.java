package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** subscription.mode = claim, with the daily per-plan quota enabled. */
@ExtendWith(VertxExtension.class)
class SubscriptionClaimTest {

  @TempDir static Path dataDir;
  private static ApiClient api;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    JsonObject overrides = ApiClient.apiOnly()
        .put("subscription", new JsonObject().put("mode", "claim").put("claim_path", "subscription.status")
            .put("allowed_values", new JsonArray().add("active").add("trialing")))
        .put("quota", new JsonObject().put("enabled", true).put("plan_claim", "subscription.plan")
            .put("default_plan", "free").put("daily_messages", new JsonObject().put("free", 2).put("pro", 4)));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      ctx.completeNow();
    }));
  }

  private static String token(Vertx vertx, JsonObject subscription) {
    JsonObject claims = new JsonObject().put("sub", TestTokens.newUserId());
    if (subscription != null) {
      claims.put("subscription", subscription);
    }
    return TestTokens.token(vertx, TestApp.TEST_SECRET, claims, 600);
  }

  @Test
  @DisplayName("Without an allowed subscription claim every /chats route answers 402 SUBSCRIPTION_REQUIRED")
  void refusesWithoutSubscription(Vertx vertx, VertxTestContext ctx) {
    String none = token(vertx, null);
    String cancelled = token(vertx, new JsonObject().put("status", "canceled"));
    String trialing = token(vertx, new JsonObject().put("status", "trialing"));
    Future.all(List.of(api.get("/chats", none), api.post("/chats", cancelled, new JsonObject()),
            api.get("/chats", trialing)))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < 2; i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            assertThat(r.statusCode()).isEqualTo(402);
            assertThat(error(r).getString("code")).isEqualTo("SUBSCRIPTION_REQUIRED");
          }
          assertThat(((HttpResponse<Buffer>) all.resultAt(2)).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("The daily quota of the plan refuses the next send with 429 QUOTA_EXCEEDED, Retry-After and the reset time")
  void enforcesDailyQuota(Vertx vertx, VertxTestContext ctx) {
    String free = token(vertx, new JsonObject().put("status", "active"));
    String pro = token(vertx, new JsonObject().put("status", "active").put("plan", "pro"));
    List<Integer> proStatuses = new ArrayList<>();
    Instant nextMidnight = LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    api.createSession(free, "q")
        .compose(s -> api.send(free, s.getString("id"), "one")
            .compose(x -> api.send(free, s.getString("id"), "two"))
            .compose(x -> api.post("/chats/" + s.getString("id") + "/messages", free, new JsonObject().put("content", "three"))))
        .compose(refused -> api.createSession(pro, "p")
            .compose(s -> sendTimes(pro, s.getString("id"), 3, proStatuses))
            .map(v -> refused))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(429);
          JsonObject err = error(r);
          assertThat(err.getString("code")).isEqualTo("QUOTA_EXCEEDED");
          assertThat(Instant.parse(err.getJsonObject("details").getString("resetAt"))).isEqualTo(nextMidnight);
          assertThat(err.getJsonObject("details").getLong("limit")).isEqualTo(2);
          assertThat(err.getJsonObject("details").getString("plan")).isEqualTo("free");
          long retryAfter = Long.parseLong(r.getHeader("Retry-After"));
          assertThat(retryAfter).isBetween(1L, 86_400L);
          assertThat(proStatuses).containsExactly(202, 202, 202);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A retried send (same clientMessageId) still gets its stored pair with 200 after the quota ran out; a new send gets 429")
  void replaysStoredSendPastTheQuota(Vertx vertx, VertxTestContext ctx) {
    String free = token(vertx, new JsonObject().put("status", "active"));
    List<HttpResponse<Buffer>> got = new ArrayList<>();
    api.createSession(free, "retry")
        .compose(s -> {
          String path = "/chats/" + s.getString("id") + "/messages";
          return api.post(path, free, new JsonObject().put("content", "one").put("clientMessageId", "c-1")).map(got::add)
              .compose(x -> api.post(path, free, new JsonObject().put("content", "two").put("clientMessageId", "c-2")).map(got::add))
              .compose(x -> api.post(path, free, new JsonObject().put("content", "one").put("clientMessageId", "c-1")).map(got::add))
              .compose(x -> api.post(path, free, new JsonObject().put("content", "three").put("clientMessageId", "c-3")).map(got::add))
              .compose(x -> api.get(path, free)).map(got::add);
        })
        .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
          assertThat(got.get(0).statusCode()).isEqualTo(202);
          assertThat(got.get(1).statusCode()).isEqualTo(202);
          assertThat(got.get(2).statusCode()).isEqualTo(200);
          assertThat(got.get(2).bodyAsJsonObject().getJsonObject("reply").getString("id"))
              .isEqualTo(got.get(0).bodyAsJsonObject().getJsonObject("reply").getString("id"));
          assertThat(got.get(3).statusCode()).isEqualTo(429);
          assertThat(error(got.get(3)).getString("code")).isEqualTo("QUOTA_EXCEEDED");
          assertThat(got.get(4).bodyAsJsonObject().getJsonArray("items")).hasSize(4);
          ctx.completeNow();
        })));
  }

  private static Future<Void> sendTimes(String token, String sessionId, int n, List<Integer> statuses) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> api.post("/chats/" + sessionId + "/messages", token, new JsonObject().put("content", "x"))
          .map(r -> {
            statuses.add(r.statusCode());
            return null;
          }));
    }
    return chain;
  }
}
