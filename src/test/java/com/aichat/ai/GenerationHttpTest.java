package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("Generation seen through the REST API, as a client sees it")
class GenerationHttpTest {

  private GenerationHarness h;
  private UserHttp api;
  private String token;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject overrides) {
    token = TestTokens.token(vertx, TestTokens.newUserId());
    return GenerationHarness.start(vertx, dir, overrides).map(started -> {
      h = started;
      api = new UserHttp(vertx, h, token);
      return null;
    });
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    api.close();
    h.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("on the embedded defaults a sent message gets a completed offline reply that reflects the conversation")
  void offlineReplyOverHttp(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    JsonObject overrides = new JsonObject()
        .put("ai", new JsonObject().put("provider", "auto"))
        .put("claude", new JsonObject().put("api_key", ""));
    String[] session = new String[1];
    start(vertx, dir, overrides)
        .compose(v -> api.post("/chats", new JsonObject().put("title", "http")))
        .compose(r -> {
          session[0] = r.body().getString("id");
          return api.post("/chats/" + session[0] + "/messages", new JsonObject().put("content", "Tell me about leases"));
        })
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).isEqualTo(202));
          String replyPath = "/chats/" + session[0] + "/messages/" + r.body().getJsonObject("reply").getString("id");
          return api.pollUntil(replyPath, m -> m.getString("status").equals("completed"));
        })
        .onComplete(ctx.succeeding(reply -> ctx.verify(() -> {
          assertThat(reply.getString("messageType")).isEqualTo("ai_report");
          assertThat(reply.getString("model")).isEqualTo("offline-echo-1");
          assertThat(reply.getString("content")).contains("Your last question: \"Tell me about leases\"");
          assertThat(reply.getJsonObject("context").getInteger("messagesUsed")).isZero();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("POST .../cancel mid-stream answers 202, the reply ends cancelled with its partial text; a second cancel is 409")
  void cancelOverHttp(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String[] paths = new String[2];
    start(vertx, dir, null)
        .compose(v -> {
          h.fake().script("http-cancel", FakeAnthropicServer.stream(FakeAnthropicServer.words(500), 10));
          return api.post("/chats", new JsonObject().put("title", "cancel"));
        })
        .compose(r -> api.post("/chats/" + r.body().getString("id") + "/messages", new JsonObject().put("content", "http-cancel")))
        .compose(r -> {
          JsonObject reply = r.body().getJsonObject("reply");
          paths[0] = "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id");
          paths[1] = reply.getString("id");
          return api.pollUntil(paths[0], m -> m.getString("status").equals("processing") && h.deltas(paths[1]).size() >= 2);
        })
        .compose(m -> api.post(paths[0] + "/cancel", new JsonObject()))
        .compose(r -> {
          ctx.verify(() -> assertThat(r.statusCode()).isEqualTo(202));
          return api.pollUntil(paths[0], m -> m.getString("status").equals("cancelled"));
        })
        .compose(cancelled -> {
          ctx.verify(() -> {
            assertThat(cancelled.getString("content")).isNotEmpty().isEqualTo(h.deltaText(paths[1]));
            assertThat(cancelled.getString("content")).hasSizeLessThan(String.join("", FakeAnthropicServer.words(500)).length());
          });
          return api.post(paths[0] + "/cancel", new JsonObject());
        })
        .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
          assertThat(again.statusCode()).isEqualTo(409);
          assertThat(again.body().getJsonObject("error").getString("code")).isEqualTo("CONFLICT");
          ctx.completeNow();
        })));
  }
}
