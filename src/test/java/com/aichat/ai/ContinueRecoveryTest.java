package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.contract.MessageStatus;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A continue that fails or is cancelled returns the reply to its pre-continue state (docs/versions.md):
 * the completed answer stays visible, stays in later context and can be continued again; continues
 * per reply are capped by {@code messages.max_continues}.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("A failed or cancelled continue keeps the completed answer; continues are capped")
class ContinueRecoveryTest {

  private static final String TEXT = "Part one, part two ";

  private GenerationHarness h;
  private UserHttp api;
  private String session;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject overrides) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    return GenerationHarness.start(vertx, dir, overrides)
        .compose(started -> {
          h = started;
          api = new UserHttp(vertx, h, token);
          return api.call(HttpMethod.POST, "/chats", new JsonObject().put("title", "continue"));
        })
        .map(r -> {
          session = r.body().getString("id");
          return null;
        });
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    if (api != null) {
      api.close();
    }
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  private String messages() {
    return "/chats/" + session + "/messages";
  }

  /** Final, and no continue running any more. */
  private static boolean ended(JsonObject m) {
    return MessageStatus.fromWire(m.getString("status")).isFinal() && !m.containsKey("continueOffset");
  }

  /** Sends {@code text} and waits for its reply to end; returns the reply. */
  private Future<JsonObject> exchange(String text) {
    return api.call(HttpMethod.POST, messages(), new JsonObject().put("content", text))
        .compose(r -> {
          assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
          return api.pollUntil(messages() + "/" + r.body().getJsonObject("reply").getString("id"),
              ContinueRecoveryTest::ended);
        });
  }

  private static String errorCode(HttpResponse<JsonObject> r) {
    return r.body().getJsonObject("error").getString("code");
  }

  @Test
  @DisplayName("a continue the provider refuses (400): the reply is completed again with its text and max_tokens, the error beside it, and it stays in the next reply's context")
  void failedContinueRestores(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] path = new String[1];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("fail-q", new FakeAnthropicServer.Truncated(List.of("Part one, ", "part two "), 2),
              new FakeAnthropicServer.Status(400, "invalid_request_error", null));
          h.fake().script("after-q", FakeAnthropicServer.stream(List.of("fine"), 2));
          return exchange("fail-q");
        })
        .compose(first -> {
          path[0] = messages() + "/" + first.getString("id");
          ctx.verify(() -> assertThat(first.getString("stopReason")).isEqualTo("max_tokens"));
          return api.call(HttpMethod.POST, path[0] + "/continue", null);
        })
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202));
          return api.pollUntil(path[0], ContinueRecoveryTest::ended);
        })
        .compose(after -> {
          ctx.verify(() -> {
            assertThat(after.getString("messageType")).isEqualTo("ai_report");
            assertThat(after.getString("status")).isEqualTo("completed");
            assertThat(after.getString("content")).isEqualTo(TEXT);
            assertThat(after.getString("stopReason")).isEqualTo("max_tokens");
            assertThat(after.containsKey("error")).isFalse();
            JsonObject lastError = after.getJsonObject("lastContinueError");
            assertThat(lastError).isNotNull();
            assertThat(lastError.getString("code")).isNotBlank();
            assertThat(lastError.getString("message")).isNotBlank();
            assertThat(lastError.getString("at")).isNotBlank();
            assertThat(after.getInteger("continues")).isEqualTo(1);
            assertThat(h.fake().requestsFor("fail-q")).hasSize(2);
          });
          return exchange("after-q");
        })
        .onComplete(ctx.succeeding(next -> ctx.verify(() -> {
          assertThat(next.getString("content")).isEqualTo("fine");
          Recorded sent = h.fake().requestsFor("after-q").get(0);
          JsonArray turns = sent.body().getJsonArray("messages");
          boolean answerInContext = false;
          for (int i = 0; i < turns.size(); i++) {
            JsonObject t = turns.getJsonObject(i);
            if (t.getString("role").equals("assistant") && Recorded.textOf(t).contains("Part one, part two")) {
              answerInContext = true;
            }
          }
          assertThat(answerInContext).as("the completed answer is in the next reply's context: %s", turns).isTrue();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a cancelled continue: the reply is completed again with its text and max_tokens, and can be continued again")
  void cancelledContinueRestores(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] ids = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("cancel-q", new FakeAnthropicServer.Truncated(List.of("Part one, ", "part two "), 2),
              FakeAnthropicServer.stream(FakeAnthropicServer.words(500), 10),
              FakeAnthropicServer.stream(List.of("and ", "the end."), 2));
          return exchange("cancel-q");
        })
        .compose(first -> {
          ids[1] = first.getString("id");
          ids[0] = messages() + "/" + ids[1];
          return api.call(HttpMethod.POST, ids[0] + "/continue", null);
        })
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202));
          // the continuation is streaming: some of its text is past the continued length
          return h.until(() -> h.deltas(ids[1]).stream().anyMatch(d -> d.offset() > TEXT.length()));
        })
        .compose(v -> api.call(HttpMethod.POST, ids[0] + "/cancel", null))
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202));
          return api.pollUntil(ids[0], ContinueRecoveryTest::ended);
        })
        .compose(after -> {
          ctx.verify(() -> {
            assertThat(after.getString("messageType")).isEqualTo("ai_report");
            assertThat(after.getString("status")).isEqualTo("completed");
            assertThat(after.getString("content")).isEqualTo(TEXT);
            assertThat(after.getString("stopReason")).isEqualTo("max_tokens");
            assertThat(after.getJsonObject("lastContinueError").getString("code")).isEqualTo("cancelled");
            assertThat(h.finalEvents(ids[1])).contains("message.cancelled");
          });
          return api.call(HttpMethod.POST, ids[0] + "/continue", null);
        })
        .compose(again -> {
          ctx.verify(() -> assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202));
          return api.pollUntil(ids[0], m -> ended(m) && m.getString("content").endsWith("end."));
        })
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(done.getString("content")).isEqualTo(TEXT + "and the end.");
          assertThat(done.getString("stopReason")).isEqualTo("end_turn");
          assertThat(done.containsKey("lastContinueError")).isFalse();
          assertThat(done.getInteger("continues")).isEqualTo(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("messages.max_continues 2: the second continue is allowed, the third gets 409 TOO_MANY_CONTINUES; a regenerate starts the count again")
  void continuesAreCapped(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] path = new String[1];
    JsonObject overrides = new JsonObject().put("messages", new JsonObject().put("max_continues", 2));
    start(vertx, dir, overrides)
        .compose(v -> {
          FakeAnthropicServer.Truncated cut = new FakeAnthropicServer.Truncated(List.of("more "), 1);
          h.fake().script("cap-q", cut, cut, cut, cut, cut);
          return exchange("cap-q");
        })
        .compose(first -> {
          path[0] = messages() + "/" + first.getString("id");
          return continued(path[0], "more more ");
        })
        .compose(one -> {
          ctx.verify(() -> assertThat(one.getInteger("continues")).isEqualTo(1));
          return continued(path[0], "more more more ");
        })
        .compose(two -> {
          ctx.verify(() -> {
            assertThat(two.getInteger("continues")).isEqualTo(2);
            assertThat(two.getString("stopReason")).isEqualTo("max_tokens");
          });
          return api.call(HttpMethod.POST, path[0] + "/continue", null);
        })
        .compose(third -> {
          ctx.verify(() -> {
            assertThat(third.statusCode()).as(third.bodyAsString()).isEqualTo(409);
            assertThat(errorCode(third)).isEqualTo("TOO_MANY_CONTINUES");
          });
          return api.call(HttpMethod.GET, path[0], null);
        })
        .compose(unchanged -> {
          ctx.verify(() -> {
            assertThat(unchanged.body().getString("content")).isEqualTo("more more more ");
            assertThat(unchanged.body().getString("status")).isEqualTo("completed");
            assertThat(h.fake().requestsFor("cap-q")).hasSize(3);
          });
          return api.call(HttpMethod.POST, path[0] + "/regenerate", null)
              .compose(r -> api.pollUntil(path[0], m -> ended(m) && m.getInteger("version") == 2));
        })
        .compose(regenerated -> {
          ctx.verify(() -> assertThat(regenerated.containsKey("continues")).isFalse());
          return api.call(HttpMethod.POST, path[0] + "/continue", null);
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a continue cancelled before any worker generated it (worker.max_per_user busy): the reply is completed again and can be continued again")
  void cancelledPendingContinueRestores(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] ids = new String[3];
    // One worker instance: worker.max_per_user counts per instance, so with the default two the other
    // instance takes the continue and only the cancel racing its claim kept it from the provider (a race
    // the slower claim path used to win: the claim now brings the context in one round trip).
    JsonObject overrides = new JsonObject().put("worker", new JsonObject().put("max_per_user", 1))
        .put("verticles", new JsonObject().put("worker", 1));
    start(vertx, dir, overrides)
        .compose(v -> {
          h.fake().script("pend-q", new FakeAnthropicServer.Truncated(List.of("Part one, ", "part two "), 2),
              FakeAnthropicServer.stream(List.of("and ", "the end."), 2));
          h.fake().script("busy-q", FakeAnthropicServer.stream(FakeAnthropicServer.words(500), 10));
          return exchange("pend-q");
        })
        .compose(first -> {
          ids[1] = first.getString("id");
          ids[0] = messages() + "/" + ids[1];
          // the user's one generation slot is taken by a long reply, so the continue stays pending
          return api.call(HttpMethod.POST, messages(), new JsonObject().put("content", "busy-q"));
        })
        .compose(busy -> {
          ids[2] = busy.body().getJsonObject("reply").getString("id");
          return h.until(() -> !h.deltas(ids[2]).isEmpty());
        })
        .compose(v -> api.call(HttpMethod.POST, ids[0] + "/continue", null))
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202));
          return api.call(HttpMethod.POST, ids[0] + "/cancel", null);
        })
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202));
          return api.pollUntil(ids[0], ContinueRecoveryTest::ended);
        })
        .compose(after -> {
          ctx.verify(() -> {
            assertThat(after.getString("status")).isEqualTo("completed");
            assertThat(after.getString("content")).isEqualTo(TEXT);
            assertThat(after.getString("stopReason")).isEqualTo("max_tokens");
            assertThat(after.getJsonObject("lastContinueError").getString("code")).isEqualTo("cancelled");
            assertThat(h.fake().requestsFor("pend-q")).as("the continue never reached the provider").hasSize(1);
          });
          return api.call(HttpMethod.POST, messages() + "/" + ids[2] + "/cancel", null);
        })
        .compose(r -> api.call(HttpMethod.POST, ids[0] + "/continue", null))
        .compose(again -> {
          ctx.verify(() -> assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202));
          return api.pollUntil(ids[0], m -> ended(m) && m.getString("content").endsWith("end."));
        })
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(done.getString("content")).isEqualTo(TEXT + "and the end.");
          ctx.completeNow();
        })));
  }

  /** Continues the reply at {@code path} and waits for the continue to end with {@code content}. */
  private Future<JsonObject> continued(String path, String content) {
    return api.call(HttpMethod.POST, path + "/continue", null)
        .compose(r -> {
          assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
          return api.pollUntil(path, m -> ended(m) && m.getString("content").equals(content));
        });
  }
}
