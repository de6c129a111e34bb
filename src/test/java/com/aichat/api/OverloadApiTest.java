package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends past the dispatcher's configured queue limits, over real HTTP against the real API,
 * persistence and dispatcher. No AI worker runs, so every accepted reply stays queued and the queue
 * sits exactly at the edge being tested.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Sends past the dispatch queue limits are refused up front with 503 OVERLOADED")
class OverloadApiTest {

  private ApiClient api;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject()
        .put("verticles", new JsonObject().put("worker", 0).put("gateway", 0).put("api", 1))
        .put("dispatch", new JsonObject().put("max_queued", 3).put("max_queued_per_user", 2));
    TestApp.start(vertx, dir, overrides).onComplete(ctx.succeeding(app -> {
      api = new ApiClient(vertx, app.httpPort());
      ctx.completeNow();
    }));
  }

  private static String messages(String sessionId) {
    return "/chats/" + sessionId + "/messages";
  }

  private Future<HttpResponse<Buffer>> post(String token, String sessionId, JsonObject body) {
    return api.post(messages(sessionId), token, body);
  }

  private static JsonObject content(String text) {
    return new JsonObject().put("content", text);
  }

  @Test
  @DisplayName("with dispatch.max_queued=3 replies waiting, the next send gets 503 OVERLOADED with Retry-After and stores nothing")
  void fullQueueRefusesTheNextSend(Vertx vertx, VertxTestContext ctx) {
    List<String> tokens = List.of(TestTokens.token(vertx, TestTokens.newUserId()),
        TestTokens.token(vertx, TestTokens.newUserId()), TestTokens.token(vertx, TestTokens.newUserId()));
    List<String> sessions = new ArrayList<>();
    List<HttpResponse<Buffer>> answers = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String t : tokens) {
      chain = chain.compose(v -> api.createSession(t, "chat")).map(s -> {
        sessions.add(s.getString("id"));
        return null;
      });
    }
    // 2 + 1 accepted: the queue holds 3; then a third user's first send is one too many
    int[] senders = {0, 0, 1, 2};
    for (int i = 0; i < senders.length; i++) {
      int u = senders[i];
      int n = i;
      chain = chain.compose(v -> post(tokens.get(u), sessions.get(u), content("question " + n)))
          .map(r -> {
            answers.add(r);
            return null;
          });
    }
    chain
        .compose(v -> api.get(messages(sessions.get(2)), tokens.get(2)))
        .compose(list3 -> api.get("/chats/" + sessions.get(2), tokens.get(2)).map(s3 -> List.of(list3, s3)))
        .onComplete(ctx.succeeding(reads -> ctx.verify(() -> {
          for (int i = 0; i < 3; i++) {
            JsonObject sent = expect(answers.get(i), 202);
            assertThat(sent.getJsonObject("reply").getString("status")).isEqualTo("pending");
            assertThat(sent.getJsonObject("queue").getInteger("queued")).isEqualTo(i + 1);
          }
          // fair positions: user 1's second reply is behind user 2's first
          assertThat(expect(answers.get(1), 202).getJsonObject("queue").getInteger("position")).isEqualTo(2);
          assertThat(expect(answers.get(2), 202).getJsonObject("queue").getInteger("position")).isEqualTo(2);
          HttpResponse<Buffer> refused = answers.get(3);
          assertThat(refused.statusCode()).isEqualTo(503);
          assertThat(error(refused).getString("code")).isEqualTo("OVERLOADED");
          assertThat(error(refused).getJsonObject("details").getString("reason")).isEqualTo("queue_full");
          assertThat(error(refused).getJsonObject("details").getInteger("queued")).isEqualTo(3);
          assertThat(Long.parseLong(refused.getHeader("Retry-After"))).isPositive();
          // nothing stored for the refused send: no message, no session bump
          assertThat(expect(reads.get(0), 200).getJsonArray("items")).isEmpty();
          assertThat(expect(reads.get(1), 200).getLong("messageCount")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a user with dispatch.max_queued_per_user=2 replies waiting is refused, other users are not, and a retried stored send still gets 200")
  void userBacklogRefusesOnlyThatUser(Vertx vertx, VertxTestContext ctx) {
    String heavy = TestTokens.token(vertx, TestTokens.newUserId());
    String light = TestTokens.token(vertx, TestTokens.newUserId());
    String[] sessions = new String[2];
    List<HttpResponse<Buffer>> answers = new ArrayList<>();
    JsonObject idempotent = content("first").put("clientMessageId", "web-1");
    api.createSession(heavy, "heavy")
        .compose(s -> {
          sessions[0] = s.getString("id");
          return api.createSession(light, "light");
        })
        .compose(s -> {
          sessions[1] = s.getString("id");
          return post(heavy, sessions[0], idempotent);
        })
        .compose(r -> {
          answers.add(r);
          return post(heavy, sessions[0], content("second"));
        })
        .compose(r -> {
          answers.add(r);
          return post(heavy, sessions[0], content("third, one too many"));
        })
        .compose(r -> {
          answers.add(r);
          return post(heavy, sessions[0], idempotent); // a client retry of the first send
        })
        .compose(r -> {
          answers.add(r);
          return post(light, sessions[1], content("my first"));
        })
        .compose(r -> {
          answers.add(r);
          return api.get(messages(sessions[0]), heavy);
        })
        .onComplete(ctx.succeeding(list -> ctx.verify(() -> {
          JsonObject first = expect(answers.get(0), 202);
          expect(answers.get(1), 202);
          HttpResponse<Buffer> refused = answers.get(2);
          assertThat(refused.statusCode()).isEqualTo(503);
          assertThat(error(refused).getString("code")).isEqualTo("OVERLOADED");
          assertThat(error(refused).getJsonObject("details").getString("reason")).isEqualTo("user_backlog");
          assertThat(refused.getHeader("Retry-After")).isNotNull();
          JsonObject replayed = expect(answers.get(3), 200);
          assertThat(replayed.getJsonObject("reply").getString("id"))
              .isEqualTo(first.getJsonObject("reply").getString("id"));
          assertThat(expect(answers.get(4), 202).getJsonObject("queue").getInteger("position")).isEqualTo(2);
          // the heavy user's session holds its two accepted sends only
          assertThat(expect(list, 200).getJsonArray("items")).hasSize(4);
          ctx.completeNow();
        })));
  }
}
