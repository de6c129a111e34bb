package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.FakeAnthropicServer.ReportedUsage;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("The context record of a reply, read over the REST API, matches what the provider was sent and reported")
class ContextRecordHttpTest {

  private GenerationHarness h;
  private UserHttp api;
  private String token;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject overrides) {
    token = TestTokens.token(vertx, TestTokens.newUserId());
    return GenerationHarness.start(vertx, dir, overrides).map(started -> {
      h = started;
      api = new UserHttp(vertx, h, token);
      h.fake().simulateCache(true);
      return null;
    });
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    if (api != null) {
      api.close();
    }
    (h == null ? Future.<Void>succeededFuture() : h.close()).onComplete(ctx.succeedingThenComplete());
  }

  /** Sends {@code count} messages over HTTP one after the other, each once the previous reply completed. */
  private Future<String> converse(Vertx vertx, int count) {
    return api.post("/chats", new JsonObject().put("title", "record")).compose(s -> {
      String sid = s.body().getString("id");
      Future<Void> chain = Future.succeededFuture();
      for (int i = 0; i < count; i++) {
        int n = i;
        chain = chain
            .compose(v -> api.post("/chats/" + sid + "/messages", new JsonObject().put("content", "question number " + n)))
            .compose(r -> api.pollUntil("/chats/" + sid + "/messages/" + r.body().getJsonObject("reply").getString("id"),
                m -> m.getString("status").equals("completed")))
            .mapEmpty();
      }
      return chain.map(sid);
    });
  }

  private Future<List<JsonObject>> replies(String sid) {
    return api.get("/chats/" + sid + "/messages?limit=100").map(r -> r.body().getJsonArray("items").stream()
        .map(o -> (JsonObject) o).filter(m -> m.getString("messageType").equals("ai_report")).toList());
  }

  private static long estimate(JsonObject body) {
    long n = 0;
    Object system = body.getValue("system");
    if (system instanceof String s) {
      n += (s.length() + 3) / 4;
    }
    for (Object o : body.getJsonArray("messages")) {
      n += (Recorded.textOf((JsonObject) o).length() + 3) / 4;
    }
    return n;
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with token_counting api: estimated = count_tokens' answer, actual and cache tokens = the usage the provider reported")
  void apiCountAndUsage(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, new JsonObject().put("context", new JsonObject().put("token_counting", "api")))
        .compose(v -> converse(vertx, 3))
        .compose(this::replies)
        .onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
          assertThat(replies).hasSize(3);
          List<Recorded> sent = h.fake().replyRequests();
          List<Recorded> counted = h.fake().countRequests();
          assertThat(sent).hasSize(3);
          assertThat(counted).hasSize(3);
          for (int i = 0; i < 3; i++) {
            JsonObject c = replies.get(i).getJsonObject("context");
            Recorded req = sent.get(i);
            ReportedUsage usage = h.fake().usageOf(req);
            assertThat(counted.get(i).body().getJsonArray("messages")).isEqualTo(req.body().getJsonArray("messages"));
            assertThat(counted.get(i).body().getValue("system")).isEqualTo(req.body().getValue("system"));
            assertThat(counted.get(i).headers().get("x-api-key")).isEqualTo(GenerationHarness.API_KEY);
            assertThat(c.getInteger("messagesUsed")).isEqualTo(2 * i);
            assertThat(c.getInteger("messagesDropped")).isZero();
            assertThat(c.containsKey("summaryVersion")).isFalse();
            assertThat(c.getString("tokenCounting")).isEqualTo("api");
            assertThat(c.getLong("estimatedInputTokens")).isEqualTo(FakeAnthropicServer.countInput(req.body()));
            assertThat(c.getLong("actualInputTokens")).isEqualTo(usage.total())
                .isEqualTo(replies.get(i).getJsonObject("usage").getLong("inputTokens"));
            assertThat(c.getLong("cacheReadTokens")).isEqualTo(usage.cacheReadTokens());
            assertThat(c.getLong("cacheWriteTokens")).isEqualTo(usage.cacheWriteTokens());
          }
          // the second reply wrote its history prefix, the third one read it back
          assertThat(replies.get(1).getJsonObject("context").getLong("cacheWriteTokens")).isPositive();
          assertThat(replies.get(2).getJsonObject("context").getLong("cacheReadTokens"))
              .isEqualTo(h.fake().usageOf(sent.get(1)).cacheWriteTokens()).isPositive();
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a failing count_tokens falls back to the estimate (ceil(chars / chars_per_token) of system and turns), and the reply still completes")
  void countFailureFallsBackToTheEstimate(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, new JsonObject().put("context", new JsonObject().put("token_counting", "api")))
        .compose(v -> {
          h.fake().countStatus(500);
          return converse(vertx, 2);
        })
        .compose(this::replies)
        .onComplete(ctx.succeeding(replies -> ctx.verify(() -> {
          assertThat(h.fake().countRequests()).hasSize(2);
          for (int i = 0; i < 2; i++) {
            JsonObject c = replies.get(i).getJsonObject("context");
            assertThat(c.getString("tokenCounting")).isEqualTo("estimate");
            assertThat(c.getLong("estimatedInputTokens")).isEqualTo(estimate(h.fake().replyRequests().get(i).body()));
          }
          ctx.completeNow();
        })));
  }

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("compaction disabled: the old window (older turns dropped), a plain string system prompt, no summary request, no summary version")
  void compactionDisabledKeepsTheOldBehaviour(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject().put("context", new JsonObject().put("max_turns", 2)
        .put("compaction", new JsonObject().put("enabled", false)));
    String[] sid = new String[1];
    start(vertx, dir, overrides)
        .compose(v -> converse(vertx, 4))
        .compose(id -> {
          sid[0] = id;
          // give a summary job, were one started, the time to ask the provider
          Promise<Void> wait = Promise.promise();
          vertx.setTimer(1500, t -> wait.complete());
          return wait.future();
        })
        .compose(v -> replies(sid[0]).compose(r -> api.get("/chats/" + sid[0]).map(s -> new Object[] {r, s.body()})))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          @SuppressWarnings("unchecked")
          List<JsonObject> replies = (List<JsonObject>) both[0];
          JsonObject session = (JsonObject) both[1];
          JsonObject last = replies.get(3).getJsonObject("context");
          assertThat(last.getInteger("messagesUsed")).isEqualTo(2);
          assertThat(last.getInteger("messagesDropped")).isGreaterThanOrEqualTo(1);
          assertThat(last.containsKey("summaryVersion")).isFalse();
          assertThat(last.getString("tokenCounting")).isEqualTo("estimate");
          assertThat(h.fake().summaryRequests()).isEmpty();
          assertThat(h.fake().countRequests()).isEmpty();
          assertThat(session.containsKey("summary")).isFalse();
          Recorded lastReq = h.fake().replyRequests().get(3);
          assertThat(lastReq.body().getValue("system")).isEqualTo("You are a test assistant.");
          JsonArray messages = lastReq.body().getJsonArray("messages");
          assertThat(messages).hasSize(3);
          assertThat(Recorded.textOf(messages.getJsonObject(0))).isEqualTo("question number 2");
          ctx.completeNow();
        })));
  }
}
