package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ErrorCode;
import com.aichat.persistence.Generations.Completion;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The usage ledger as the worker writes it: the real worker streams from the fake Claude, each reply's
 * completion adds its usage once, and {@code GET /usage} reads it back over HTTP.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Usage ledger written by the worker's completions")
class UsageLedgerTest {

  private static final int REPLIES = 24;
  private GenerationHarness h;
  private WebClient http;

  @AfterEach
  void stop(VertxTestContext ctx) {
    if (http != null) {
      http.close();
    }
    (h == null ? Future.<Void>succeededFuture() : h.close()).onComplete(ctx.succeedingThenComplete());
  }

  private Future<JsonObject> usage(String token, String from, String to) {
    return http.get(h.app().httpPort(), "127.0.0.1", "/usage?from=" + from + "&to=" + to)
        .bearerTokenAuthentication(token).as(BodyCodec.jsonObject()).send()
        .map(r -> {
          assertThat(r.statusCode()).as("GET /usage: %s", r.body()).isEqualTo(200);
          return r.body();
        });
  }

  @Test
  @DisplayName("N concurrent completions of one user through the real worker add up exactly: tokens, cache tokens and replies")
  void concurrentCompletionsAreExact(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    http = WebClient.create(vertx);
    List<ChatMessage> replies = new ArrayList<>();
    GenerationHarness.start(vertx, dir, new JsonObject().put("worker", new JsonObject().put("max_per_user", 8)))
        .compose(started -> {
          h = started;
          // input 100 + cache write 7 + cache read 30 = 137 input tokens; 3 chunks = 3 output tokens
          h.fake().usage(100, 7, 30).defaultScenario(FakeAnthropicServer.stream(List.of("a", "b", "c"), 5));
          return Future.all(List.of(h.newSession(userId), h.newSession(userId), h.newSession(userId)));
        })
        .compose(sessions -> {
          List<Future<ChatMessage>> all = new ArrayList<>();
          for (int i = 0; i < REPLIES; i++) {
            String sid = ((com.aichat.contract.ChatSession) sessions.resultAt(i % 3)).id();
            all.add(h.ask(userId, sid, "question " + i).onSuccess(m -> {
              synchronized (replies) {
                replies.add(m);
              }
            }));
          }
          return Future.all(all);
        })
        .compose(done -> usage(token, today, today))
        .onComplete(ctx.succeeding(body -> ctx.verify(() -> {
          assertThat(replies).hasSize(REPLIES).allSatisfy(m -> assertThat(m.status().wire()).isEqualTo("completed"));
          assertThat(body.getJsonArray("days")).hasSize(1);
          JsonObject day = body.getJsonArray("days").getJsonObject(0);
          assertThat(day.getString("day")).isEqualTo(today);
          JsonObject model = day.getJsonArray("models").getJsonObject(0);
          assertThat(model.getString("model")).isEqualTo(FakeAnthropicServer.MODEL);
          assertThat(model.getLong("replies")).isEqualTo(REPLIES);
          assertThat(model.getLong("inputTokens")).isEqualTo(137L * REPLIES);
          assertThat(model.getLong("outputTokens")).isEqualTo(3L * REPLIES);
          assertThat(model.getLong("cacheReadTokens")).isEqualTo(30L * REPLIES);
          assertThat(model.getLong("cacheWriteTokens")).isEqualTo(7L * REPLIES);
          assertThat(body.getJsonObject("totals").getLong("replies")).isEqualTo(REPLIES);
          assertThat(replies.get(0).usage().cacheReadTokens()).isEqualTo(30);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a retried completion (lease no longer held) is refused and counts nothing; an interrupted ledger write is recovered exactly once")
  void retriesAndRecoveryNeverDoubleCount(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    int mongoPort = com.aichat.testing.TestApp.freePort();
    http = WebClient.create(vertx);
    String[] ids = new String[3];
    MongoClient[] direct = new MongoClient[1];
    Completion late = new Completion("late", "other-model", new Usage(1000, 1000), "end_turn", new ContextInfo(0, 0));
    GenerationHarness.start(vertx, dir, new JsonObject().put("mongo", new JsonObject().put("embedded_port", mongoPort)))
        .compose(started -> {
          h = started;
          direct[0] = MongoClient.create(vertx, new JsonObject()
              .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
          h.fake().usage(10, 0, 0).defaultScenario(FakeAnthropicServer.stream(List.of("x", "y"), 5));
          return h.newSession(userId);
        })
        .compose(s -> h.ask(userId, s.id(), "one").map(m -> ids[0] = m.id()).map(s))
        .compose(s -> h.ask(userId, s.id(), "two").map(m -> ids[1] = m.id()).map(s))
        .compose(s -> h.ask(userId, s.id(), "three").map(m -> ids[2] = m.id()))
        // A stale worker's completion after the winner's: CONFLICT, nothing counted.
        .compose(x -> h.store().completeGeneration(ids[0], "stale-worker", late)
            .map(m -> (Throwable) null).otherwise(err -> err))
        .compose(err -> {
          ctx.verify(() -> assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.CONFLICT));
          // A crash between the completion and the ledger write: the mark is still on reply 1 and its
          // ledger increment never happened (taken back here); reply 2 crashed after the increment,
          // before the unmark (its id is in recentReplies, the mark is back on).
          String ledgerId = userId + ":" + today + ":" + FakeAnthropicServer.MODEL;
          return direct[0].updateCollection("usage_ledger", new JsonObject().put("_id", ledgerId),
                  new JsonObject()
                      .put("$inc", new JsonObject().put("inputTokens", -10).put("outputTokens", -2).put("replies", -1))
                      .put("$pull", new JsonObject().put("recentReplies", ids[0] + "#1"))) // replyId#attempts
              .compose(r -> direct[0].updateCollection("prompthistories",
                  new JsonObject().put("_id", new JsonObject().put("$oid", ids[0])),
                  new JsonObject().put("$set", new JsonObject().put("usageLedger", "pending"))))
              .compose(r -> direct[0].updateCollection("prompthistories",
                  new JsonObject().put("_id", new JsonObject().put("$oid", ids[1])),
                  new JsonObject().put("$set", new JsonObject().put("usageLedger", "pending"))));
        })
        .compose(r -> usage(token, today, today))
        .compose(before -> {
          ctx.verify(() -> assertThat(before.getJsonObject("totals").getLong("replies")).isEqualTo(2));
          Instant future = Instant.now().plusSeconds(60);
          return h.store().recoverUsageLedger(future, 100)
              .compose(n -> {
                ctx.verify(() -> assertThat(n).isEqualTo(2));
                return h.store().recoverUsageLedger(future, 100);
              });
        })
        .compose(n -> {
          ctx.verify(() -> assertThat(n).as("nothing left to recover").isZero());
          return usage(token, today, today);
        })
        .onComplete(ctx.succeeding(body -> ctx.verify(() -> {
          JsonObject model = body.getJsonArray("days").getJsonObject(0).getJsonArray("models").getJsonObject(0);
          assertThat(body.getJsonArray("days").getJsonObject(0).getJsonArray("models")).hasSize(1);
          assertThat(model.getLong("replies")).isEqualTo(3);
          assertThat(model.getLong("inputTokens")).isEqualTo(30);
          assertThat(model.getLong("outputTokens")).isEqualTo(6);
          direct[0].close();
          ctx.completeNow();
        })));
  }
}
