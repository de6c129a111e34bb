package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage.Usage;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The send limits through the REST API (issue 10, finding 2): the daily quota (plan "free": 2 a day)
 * cannot be raced past or given back by deleting sessions, retries count once, and the per-user cap
 * on replies waiting for the AI ({@code quota.max_pending_replies} = 3, tested with plan "pro") holds
 * at its edge. Only persistence and the API run, so replies stay pending until the test ends them.
 */
@ExtendWith(VertxExtension.class)
class SendLimitsApiTest {

  static final int PENDING_CAP = 3;

  @TempDir static Path dataDir;
  private static ApiClient api;
  private static ChatStore store;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    JsonObject overrides = ApiClient.apiOnly()
        .put("quota", new JsonObject().put("enabled", true).put("plan_claim", "plan").put("default_plan", "free")
            .put("daily_messages", new JsonObject().put("free", 2).put("pro", 1000))
            .put("max_pending_replies", PENDING_CAP));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      store = ChatStore.client(vertx);
      ctx.completeNow();
    }));
  }

  private static String token(Vertx vertx, String plan) {
    return TestTokens.token(vertx, TestApp.TEST_SECRET,
        new JsonObject().put("sub", TestTokens.newUserId()).put("plan", plan), 600);
  }

  private static String path(String sessionId) {
    return "/chats/" + sessionId + "/messages";
  }

  private static Future<HttpResponse<Buffer>> send(String token, String sessionId, String content, String clientId) {
    JsonObject body = new JsonObject().put("content", content);
    if (clientId != null) {
      body.put("clientMessageId", clientId);
    }
    return api.post(path(sessionId), token, body);
  }

  private static List<String> outcomes(List<HttpResponse<Buffer>> responses) {
    return responses.stream()
        .map(r -> r.statusCode() + (r.statusCode() >= 400 ? " " + error(r).getString("code") : ""))
        .toList();
  }

  private static List<HttpResponse<Buffer>> parallel(int n, java.util.function.IntFunction<Future<HttpResponse<Buffer>>> send) {
    return Future.all(IntStream.range(0, n).mapToObj(send::apply).toList()).await().list();
  }

  @Test
  @DisplayName("20 parallel sends against a daily limit of 2 give exactly 2 × 202 and 18 × 429 QUOTA_EXCEEDED, and store 2 pairs")
  void parallelSendsCannotPassTheQuota(Vertx vertx) {
    String free = token(vertx, "free");
    String session = api.createSession(free, "race").await().getString("id");
    List<HttpResponse<Buffer>> got = parallel(20, i -> send(free, session, "m" + i, null));
    List<String> outcomes = outcomes(got);
    assertThat(outcomes).filteredOn("202"::equals).hasSize(2);
    assertThat(outcomes).filteredOn("429 QUOTA_EXCEEDED"::equals).hasSize(18);
    HttpResponse<Buffer> refused = got.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
    assertThat(error(refused).getJsonObject("details").getLong("limit")).isEqualTo(2);
    assertThat(error(refused).getJsonObject("details").getString("plan")).isEqualTo("free");
    assertThat(refused.getHeader("Retry-After")).isNotNull();
    assertThat(expect(api.get(path(session), free).await(), 200).getJsonArray("items")).hasSize(4);
  }

  @Test
  @DisplayName("Deleting the session that used the quota gives nothing back: the next send, in a new session, is 429")
  void deletingSessionsDoesNotRestoreTheQuota(Vertx vertx) {
    String free = token(vertx, "free");
    String first = api.createSession(free, "spent").await().getString("id");
    assertThat(send(free, first, "one", null).await().statusCode()).isEqualTo(202);
    assertThat(send(free, first, "two", null).await().statusCode()).isEqualTo(202);
    assertThat(api.delete("/chats/" + first, free).await().statusCode()).isEqualTo(204);
    String second = api.createSession(free, "fresh").await().getString("id");
    HttpResponse<Buffer> r = send(free, second, "three", null).await();
    assertThat(r.statusCode()).isEqualTo(429);
    assertThat(error(r).getString("code")).isEqualTo("QUOTA_EXCEEDED");
    assertThat(expect(api.get(path(second), free).await(), 200).getJsonArray("items")).isEmpty();
  }

  @Test
  @DisplayName("A retry (same clientMessageId), also 10 in parallel, counts once: one 202, the rest 200 with the same pair, and one more send still fits")
  void retriesCountOnce(Vertx vertx) {
    String free = token(vertx, "free");
    String session = api.createSession(free, "retry").await().getString("id");
    List<HttpResponse<Buffer>> got = parallel(10, i -> send(free, session, "same", "c-1"));
    assertThat(outcomes(got)).filteredOn("202"::equals).hasSize(1);
    assertThat(outcomes(got)).filteredOn("200"::equals).hasSize(9);
    assertThat(got.stream().map(r -> r.bodyAsJsonObject().getJsonObject("reply").getString("id")).distinct()).hasSize(1);
    assertThat(send(free, session, "same", "c-1").await().statusCode()).isEqualTo(200);
    assertThat(send(free, session, "second", "c-2").await().statusCode()).isEqualTo(202);
    assertThat(outcomes(List.of(send(free, session, "third", "c-3").await()))).containsExactly("429 QUOTA_EXCEEDED");
    assertThat(send(free, session, "same", "c-1").await().statusCode()).as("a retry past the quota").isEqualTo(200);
  }

  @Test
  @DisplayName("At most max_pending_replies replies wait at once: N+1 parallel sends give N × 202 and one 429 TOO_MANY_PENDING; a completed or cancelled reply frees a place")
  void pendingCapAtItsEdge(Vertx vertx) {
    String pro = token(vertx, "pro");
    String session = api.createSession(pro, "pending").await().getString("id");
    List<HttpResponse<Buffer>> got = parallel(PENDING_CAP + 1, i -> send(pro, session, "m" + i, null));
    assertThat(outcomes(got)).filteredOn("202"::equals).hasSize(PENDING_CAP);
    assertThat(outcomes(got)).filteredOn("429 TOO_MANY_PENDING"::equals).hasSize(1);
    HttpResponse<Buffer> refused = got.stream().filter(r -> r.statusCode() == 429).findFirst().orElseThrow();
    assertThat(error(refused).getJsonObject("details").getInteger("limit")).isEqualTo(PENDING_CAP);
    assertThat(expect(api.get(path(session), pro).await(), 200).getJsonArray("items")).hasSize(2 * PENDING_CAP);
    List<JsonObject> replies = got.stream().filter(r -> r.statusCode() == 202)
        .map(r -> r.bodyAsJsonObject().getJsonObject("reply")).toList();

    // the cap is per user, across sessions
    String other = api.createSession(pro, "other").await().getString("id");
    assertThat(outcomes(List.of(send(pro, other, "x", null).await()))).containsExactly("429 TOO_MANY_PENDING");
    String someoneElse = token(vertx, "pro");
    String theirs = api.createSession(someoneElse, "b").await().getString("id");
    assertThat(send(someoneElse, theirs, "b", null).await().statusCode()).as("another user").isEqualTo(202);

    // a worker completes one reply: one place again, and only one
    String done = replies.get(0).getString("id");
    store.claimGeneration(done, "test-worker", 30_000).await();
    store.completeGeneration(done, "test-worker", new Completion("done", "m", new Usage(1, 1), "end_turn", null)).await();
    assertThat(send(pro, other, "after complete", null).await().statusCode()).isEqualTo(202);
    assertThat(outcomes(List.of(send(pro, other, "x", null).await()))).containsExactly("429 TOO_MANY_PENDING");

    // the user cancels one
    String cancel = path(session) + "/" + replies.get(1).getString("id") + "/cancel";
    assertThat(api.post(cancel, pro, null).await().statusCode()).isEqualTo(202);
    assertThat(send(pro, other, "after cancel", null).await().statusCode()).isEqualTo(202);
    assertThat(outcomes(List.of(send(pro, other, "x", null).await()))).containsExactly("429 TOO_MANY_PENDING");
  }
}
