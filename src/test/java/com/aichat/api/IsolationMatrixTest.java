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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class IsolationMatrixTest {

  @TempDir static Path dataDir;
  private static ApiClient api;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    TestApp.start(vertx, dataDir, ApiClient.apiOnly()).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      ctx.completeNow();
    }));
  }

  @Test
  @DisplayName("User B gets 404 on every endpoint addressing user A's session or messages (export too), finds none of A's data by search or usage, and nothing of A's changes")
  void otherUsersDataIsInvisible(Vertx vertx, VertxTestContext ctx) {
    String a = TestTokens.token(vertx, TestTokens.newUserId());
    String b = TestTokens.token(vertx, TestTokens.newUserId());
    Map<String, HttpResponse<Buffer>> attempts = new LinkedHashMap<>();
    JsonObject[] before = new JsonObject[3];
    api.createSession(a, "A's secret plans")
        .compose(s -> api.send(a, s.getString("id"), "private content"))
        .compose(pair -> {
          String sid = pair.getJsonObject("reply").getString("sessionId");
          String uid = pair.getJsonObject("userMessage").getString("id");
          String rid = pair.getJsonObject("reply").getString("id");
          String s = "/chats/" + sid;
          return snapshot(a, sid, rid, before)
              .compose(x -> api.createSession(b, "B's own"))
              .compose(own -> Future.all(List.of(
                  track(attempts, "GET session", api.get(s, b)),
                  track(attempts, "PATCH session", api.patch(s, b, new JsonObject().put("title", "pwned"))),
                  track(attempts, "POST message", api.post(s + "/messages", b, new JsonObject().put("content", "hi"))),
                  track(attempts, "GET messages", api.get(s + "/messages", b)),
                  track(attempts, "GET message", api.get(s + "/messages/" + uid, b)),
                  track(attempts, "GET reply", api.get(s + "/messages/" + rid, b)),
                  track(attempts, "POST cancel", api.post(s + "/messages/" + rid + "/cancel", b, null)),
                  track(attempts, "GET A's message via B's session",
                      api.get("/chats/" + own.getString("id") + "/messages/" + uid, b)),
                  track(attempts, "POST cancel of A's reply via B's session",
                      api.post("/chats/" + own.getString("id") + "/messages/" + rid + "/cancel", b, null)),
                  track(attempts, "POST regenerate", api.post(s + "/messages/" + rid + "/regenerate", b,
                      new JsonObject().put("clientMessageId", "b-1"))),
                  track(attempts, "POST regenerate of A's reply via B's session",
                      api.post("/chats/" + own.getString("id") + "/messages/" + rid + "/regenerate", b, null)),
                  track(attempts, "POST continue", api.post(s + "/messages/" + rid + "/continue", b, null)),
                  track(attempts, "PATCH message (edit)", api.patch(s + "/messages/" + uid, b,
                      new JsonObject().put("content", "pwned"))),
                  track(attempts, "PATCH A's message via B's session", api.patch(
                      "/chats/" + own.getString("id") + "/messages/" + uid, b, new JsonObject().put("content", "pwned"))),
                  track(attempts, "PUT feedback", api.put(s + "/messages/" + rid + "/feedback", b,
                      new JsonObject().put("rating", "down"))),
                  track(attempts, "PUT feedback via B's session", api.put(
                      "/chats/" + own.getString("id") + "/messages/" + rid + "/feedback", b,
                      new JsonObject().put("rating", "down"))),
                  track(attempts, "DELETE feedback", api.delete(s + "/messages/" + rid + "/feedback", b)))))
              .compose(x -> track(attempts, "GET export json", api.get(s + "/export?format=json", b)))
              .compose(x -> track(attempts, "GET export markdown", api.get(s + "/export?format=markdown", b)))
              .compose(x -> track(attempts, "DELETE session", api.delete(s, b)))
              .compose(x -> track(attempts, "GET list", api.get("/chats", b)))
              .compose(x -> track(attempts, "GET search", api.get("/chats/search?q=private", b)))
              .compose(x -> track(attempts, "GET search by title", api.get("/chats/search?q=secret", b)))
              .compose(x -> track(attempts, "GET usage", api.get("/usage?from=" + today() + "&to=" + today(), b)))
              .compose(x -> {
                JsonObject[] after = new JsonObject[3];
                return snapshot(a, sid, rid, after).map(y -> after);
              });
        })
        .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
          attempts.forEach((name, r) -> {
            if (name.equals("GET list")) {
              JsonObject list = expect(r, 200);
              assertThat(list.getJsonArray("items")).hasSize(1);
              assertThat(list.getJsonArray("items").getJsonObject(0).getString("title")).isEqualTo("B's own");
            } else if (name.startsWith("GET search")) {
              // No id to address: B's search answers 200 with none of A's sessions or messages.
              assertThat(expect(r, 200).getJsonArray("items")).as(name).isEmpty();
              assertThat(r.bodyAsString()).as(name).doesNotContain("private content", "A's secret plans");
            } else if (name.equals("GET usage")) {
              assertThat(expect(r, 200).getJsonArray("days")).isEmpty();
            } else {
              assertThat(r.statusCode()).as(name + ": " + r.bodyAsString()).isEqualTo(404);
              assertThat(error(r).getString("code")).as(name).isEqualTo("NOT_FOUND");
              assertThat(r.bodyAsString()).as(name).doesNotContain("private content", "A's secret plans");
            }
          });
          assertThat(attempts).hasSize(24);
          assertThat(after).containsExactly(before);
          assertThat(after[2].getString("status")).isEqualTo("pending");
          ctx.completeNow();
        })));
  }

  private static String today() {
    return java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
  }

  private static Future<HttpResponse<Buffer>> track(
      Map<String, HttpResponse<Buffer>> into, String name, Future<HttpResponse<Buffer>> call) {
    return call.onSuccess(r -> {
      synchronized (into) {
        into.put(name, r);
      }
    });
  }

  /** A's session, message list and reply, as A sees them. */
  private static Future<Void> snapshot(String token, String sid, String rid, JsonObject[] into) {
    return api.get("/chats/" + sid, token).map(r -> into[0] = expect(r, 200))
        .compose(x -> api.get("/chats/" + sid + "/messages", token)).map(r -> into[1] = expect(r, 200))
        .compose(x -> api.get("/chats/" + sid + "/messages/" + rid, token)).map(r -> into[2] = expect(r, 200))
        .mapEmpty();
  }
}
