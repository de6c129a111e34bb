package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class MessageApiTest {

  @TempDir static Path dataDir;
  private static ApiClient api;
  /** Every DISPATCH request seen (this test app runs no dispatcher, so this is the only consumer). */
  private static final List<String> dispatched = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    MessageConsumer<JsonObject> c = vertx.eventBus().consumer(Addresses.DISPATCH,
        m -> {
          dispatched.add(m.body().getString("messageId"));
          m.reply(new JsonObject().put("dispatched", true));
        });
    c.completion()
        .compose(v -> TestApp.start(vertx, dataDir, ApiClient.apiOnly()))
        .onComplete(ctx.succeeding(a -> {
          api = new ApiClient(vertx, a.httpPort());
          ctx.completeNow();
        }));
  }

  private static String path(String sessionId) {
    return "/chats/" + sessionId + "/messages";
  }

  @Test
  @DisplayName("A send answers 202 with the user message and a pending ai_report placeholder, dispatches it, and both are readable")
  void sendsAndReads(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    List<JsonObject> got = new ArrayList<>();
    api.createSession(token, "chat")
        .compose(s -> api.send(token, s.getString("id"), "Write a haiku about Vert.x"))
        .compose(pair -> {
          got.add(pair);
          String sid = pair.getJsonObject("userMessage").getString("sessionId");
          String rid = pair.getJsonObject("reply").getString("id");
          return api.get(path(sid) + "/" + rid, token).map(r -> got.add(expect(r, 200)))
              .compose(x -> api.get(path(sid), token)).map(r -> got.add(expect(r, 200)))
              .compose(x -> api.get("/chats/" + sid, token)).map(r -> got.add(expect(r, 200)));
        })
        .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
          JsonObject user = got.get(0).getJsonObject("userMessage");
          JsonObject reply = got.get(0).getJsonObject("reply");
          assertThat(user.getString("messageType")).isEqualTo("user");
          assertThat(user.getString("status")).isEqualTo("completed");
          assertThat(user.getString("content")).isEqualTo("Write a haiku about Vert.x");
          assertThat(reply.getString("messageType")).isEqualTo("ai_report");
          assertThat(reply.getString("status")).isEqualTo("pending");
          assertThat(reply.getString("replyTo")).isEqualTo(user.getString("id"));
          assertThat(got.get(0).containsKey("created")).isFalse();
          assertThat(got.get(1)).isEqualTo(reply);
          JsonArray items = got.get(2).getJsonArray("items");
          assertThat(items.stream().map(o -> ((JsonObject) o).getString("id")))
              .containsExactly(user.getString("id"), reply.getString("id"));
          assertThat(got.get(3).getLong("messageCount")).isEqualTo(2);
          assertThat(got.get(3).getString("lastMessageAt")).isNotNull();
          assertThat(dispatched).contains(reply.getString("id"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Repeating a send with the same clientMessageId answers 200 with the same pair and stores nothing new")
  void idempotentSend(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    JsonObject body = new JsonObject().put("content", "hello").put("clientMessageId", "c-123");
    List<HttpResponse<Buffer>> got = new ArrayList<>();
    api.createSession(token, "idem")
        .compose(s -> api.post(path(s.getString("id")), token, body).map(r -> got.add(r))
            .compose(x -> api.post(path(s.getString("id")), token, body)).map(r -> got.add(r))
            .compose(x -> api.get(path(s.getString("id")), token)))
        .onComplete(ctx.succeeding(list -> ctx.verify(() -> {
          JsonObject first = expect(got.get(0), 202);
          JsonObject again = expect(got.get(1), 200);
          assertThat(again).isEqualTo(first);
          assertThat(first.getJsonObject("userMessage").getString("clientMessageId")).isEqualTo("c-123");
          assertThat(expect(list, 200).getJsonArray("items")).hasSize(2);
          String replyId = first.getJsonObject("reply").getString("id");
          assertThat(dispatched.stream().filter(replyId::equals)).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Message bodies are validated: content 1-32,000 characters, clientMessageId 1-100, no unknown fields, JSON only")
  void validatesMessages(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    api.createSession(token, "v")
        .compose(s -> {
          String p = path(s.getString("id"));
          return Future.all(List.of(
              api.post(p, token, new JsonObject().put("content", "")),
              api.post(p, token, new JsonObject().put("content", "x".repeat(32_001))),
              api.post(p, token, new JsonObject()),
              api.post(p, token, new JsonObject().put("content", 5)),
              api.post(p, token, new JsonObject().put("content", "ok").put("clientMessageId", "x".repeat(101))),
              api.post(p, token, new JsonObject().put("content", "ok").put("role", "system")),
              api.raw(HttpMethod.POST, p, token, "text/plain", "hello"),
              api.post(p, token, null),
              api.get(p + "?after=a&before=b", token),
              api.get(p + "?limit=500", token),
              api.post(p, token, new JsonObject().put("content", "é".repeat(32_000)))));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<String> got = new ArrayList<>();
          for (int i = 0; i < all.size() - 1; i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            JsonObject details = error(r).getJsonObject("details");
            String field = details == null ? "-" : ((JsonObject) details.getJsonArray("fields").getValue(0)).getString("field");
            got.add(r.statusCode() + " " + error(r).getString("code") + " " + field);
          }
          assertThat(got).containsExactly(
              "400 VALIDATION_FAILED content", "400 VALIDATION_FAILED content", "400 VALIDATION_FAILED content",
              "400 VALIDATION_FAILED content", "400 VALIDATION_FAILED clientMessageId", "400 VALIDATION_FAILED role",
              "415 UNSUPPORTED_MEDIA_TYPE -", "415 UNSUPPORTED_MEDIA_TYPE -", "400 VALIDATION_FAILED -",
              "400 VALIDATION_FAILED limit");
          HttpResponse<Buffer> longest = all.resultAt(all.size() - 1);
          assertThat(longest.statusCode()).as("32,000 two-byte characters are allowed").isEqualTo(202);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Sending to an unknown session is 404; reading an unknown or malformed message id is 404")
  void unknownTargets(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    api.createSession(token, "u")
        .compose(s -> Future.all(List.of(
            api.post(path(new ObjectId().toHexString()), token, new JsonObject().put("content", "hi")),
            api.get(path(s.getString("id")) + "/" + new ObjectId().toHexString(), token),
            api.get(path(s.getString("id")) + "/xyz", token),
            api.get(path(new ObjectId().toHexString()), token))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          for (int i = 0; i < all.size(); i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(404);
            assertThat(error(r).getString("code")).isEqualTo("NOT_FOUND");
          }
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Cancelling a pending reply makes it cancelled (202); cancelling it again is 409; a user message is 400")
  void cancelsPendingReply(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    List<HttpResponse<Buffer>> got = new ArrayList<>();
    api.createSession(token, "c")
        .compose(s -> api.send(token, s.getString("id"), "stop me"))
        .compose(pair -> {
          String base = path(pair.getJsonObject("reply").getString("sessionId")) + "/";
          String cancel = base + pair.getJsonObject("reply").getString("id") + "/cancel";
          return api.post(cancel, token, null).map(got::add)
              .compose(x -> api.post(cancel, token, null)).map(got::add)
              .compose(x -> api.post(base + pair.getJsonObject("userMessage").getString("id") + "/cancel", token, null))
              .map(got::add);
        })
        .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
          assertThat(expect(got.get(0), 202).getString("status")).isEqualTo("cancelled");
          assertThat(got.get(1).statusCode()).isEqualTo(409);
          assertThat(error(got.get(1)).getString("code")).isEqualTo("CONFLICT");
          assertThat(got.get(2).statusCode()).isEqualTo(400);
          assertThat(error(got.get(2)).getString("code")).isEqualTo("VALIDATION_FAILED");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Cancelling a reply that a worker is generating answers 202 and publishes a cancel to the workers")
  void cancelsProcessingReply(Vertx vertx, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    Promise<String> cancelSeen = Promise.promise();
    vertx.eventBus().<JsonObject>consumer(Addresses.AI_CANCEL, m -> cancelSeen.tryComplete(m.body().getString("messageId")));
    ChatStore store = ChatStore.client(vertx);
    api.createSession(token, "p")
        .compose(s -> api.send(token, s.getString("id"), "long report"))
        .compose(pair -> {
          JsonObject reply = pair.getJsonObject("reply");
          return store.claimGeneration(reply.getString("id"), "test-worker", 60_000)
              .compose(claim -> api.post(path(reply.getString("sessionId")) + "/" + reply.getString("id") + "/cancel", token, null))
              .compose(r -> cancelSeen.future().map(id -> {
                ctx.verify(() -> {
                  assertThat(expect(r, 202).getString("status")).isEqualTo("processing");
                  assertThat(id).isEqualTo(reply.getString("id"));
                });
                return id;
              }));
        })
        .onComplete(ctx.succeeding(x -> ctx.completeNow()));
  }
}
