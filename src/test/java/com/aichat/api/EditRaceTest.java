package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.persistence.ChatStore;
import com.aichat.persistence.Generations.Completion;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 24, finding 6: an edit racing a regenerate of the same turn answered 409
 * GENERATION_IN_PROGRESS in 4 of 30 rounds although its text and version were stored. Every answer
 * must match what was stored.
 */
@ExtendWith(VertxExtension.class)
class EditRaceTest {

  static final int ROUNDS = 50;

  @Test
  @DisplayName("edit racing regenerate, 50 rounds: a 202 edit is stored, a 409 edit left no trace, and exactly one of the two won")
  void editAnswerMatchesStoredState(Vertx vertx, @TempDir Path dir) {
    JsonObject overrides = ApiClient.apiOnly()
        .put("quota", new JsonObject().put("max_pending_replies", 0))
        .put("messages", new JsonObject().put("max_versions", 1000))
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000));
    TestApp app = TestApp.start(vertx, dir, overrides).await();
    ApiClient api = new ApiClient(vertx, app.httpPort());
    ChatStore store = ChatStore.client(vertx);
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    String sid = api.createSession(token, "race").await().getString("id");
    JsonObject pair = api.send(token, sid, "original question").await();
    String userId = pair.getJsonObject("userMessage").getString("id");
    String replyId = pair.getJsonObject("reply").getString("id");
    complete(store, replyId, "answer 0");

    int editsWon = 0;
    for (int round = 1; round <= ROUNDS; round++) {
      JsonObject userBefore = message(api, token, sid, userId);
      JsonObject replyBefore = message(api, token, sid, replyId);
      String text = "edited in round " + round;
      Future<HttpResponse<Buffer>> edit = api.patch("/chats/" + sid + "/messages/" + userId, token,
          new JsonObject().put("content", text));
      Future<HttpResponse<Buffer>> regen = api.post("/chats/" + sid + "/messages/" + replyId + "/regenerate", token,
          new JsonObject());
      Future.join(edit, regen).await();
      HttpResponse<Buffer> e = edit.result();
      HttpResponse<Buffer> r = regen.result();
      JsonObject userAfter = message(api, token, sid, userId);
      JsonObject replyAfter = message(api, token, sid, replyId);
      String where = "round " + round + ": edit " + e.statusCode() + " " + e.bodyAsString()
          + ", regenerate " + r.statusCode() + " " + r.bodyAsString() + ", user " + userAfter.encode();

      assertThat(e.statusCode()).as(where).isIn(202, 409);
      assertThat(r.statusCode()).as(where).isIn(202, 409);
      if (e.statusCode() == 202) {
        editsWon++;
        assertThat(userAfter.getString("content")).as(where).isEqualTo(text);
        assertThat(userAfter.getInteger("version")).as(where).isEqualTo(userBefore.getInteger("version") + 1);
        assertThat(expect(e, 202).getJsonObject("userMessage").getString("content")).as(where).isEqualTo(text);
      } else {
        assertThat(error(e).getString("code")).as(where).isEqualTo("GENERATION_IN_PROGRESS");
        assertThat(userAfter.getString("content")).as(where).isEqualTo(userBefore.getString("content"));
        assertThat(userAfter.getInteger("version")).as(where).isEqualTo(userBefore.getInteger("version"));
      }
      // the reply was restarted exactly once, by whichever request answered 202
      assertThat((e.statusCode() == 202 ? 1 : 0) + (r.statusCode() == 202 ? 1 : 0)).as(where).isEqualTo(1);
      assertThat(replyAfter.getInteger("version")).as(where).isEqualTo(replyBefore.getInteger("version") + 1);
      assertThat(replyAfter.getString("status")).as(where).isEqualTo("pending");
      complete(store, replyId, "answer " + round);
    }
    LoggerFactory.getLogger(EditRaceTest.class).info("edit race: the edit won {} of {} rounds", editsWon, ROUNDS);
  }

  static JsonObject message(ApiClient api, String token, String sid, String id) {
    return expect(api.get("/chats/" + sid + "/messages/" + id, token).await(), 200);
  }

  static void complete(ChatStore store, String replyId, String content) {
    assertThat(store.claimGeneration(replyId, "w-race", 30_000).await().claimed()).isTrue();
    store.completeGeneration(replyId, "w-race", new Completion(content, "m", null, "end_turn", new ContextInfo(0, 0))).await();
  }
}
