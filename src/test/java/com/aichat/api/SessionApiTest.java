package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class SessionApiTest {

  private static final int MAX_BODY = 2048;
  @TempDir static Path dataDir;
  private static ApiClient api;
  private static TestApp app;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    JsonObject overrides = ApiClient.apiOnly().put("http", new JsonObject().put("max_body_bytes", MAX_BODY));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      app = a;
      api = new ApiClient(vertx, a.httpPort());
      ctx.completeNow();
    }));
  }

  private static String newToken(Vertx vertx) {
    return TestTokens.token(vertx, TestTokens.newUserId());
  }

  @Test
  @DisplayName("A session is created (trimmed title, team, Location), read, renamed, listed by team, deleted, and then gone")
  void sessionLifecycle(Vertx vertx, VertxTestContext ctx) {
    String token = newToken(vertx);
    String teamId = new ObjectId().toHexString();
    List<Object> seen = new ArrayList<>();
    api.post("/chats", token, new JsonObject().put("title", "  Trip plan  ").put("teamId", teamId))
        .compose(r -> {
          JsonObject s = expect(r, 201);
          seen.add(r.getHeader("Location"));
          seen.add(s);
          return api.get("/chats/" + s.getString("id"), token);
        })
        .compose(r -> {
          seen.add(expect(r, 200));
          String id = ((JsonObject) seen.get(1)).getString("id");
          return api.patch("/chats/" + id, token, new JsonObject().put("title", "Renamed"));
        })
        .compose(r -> {
          seen.add(expect(r, 200));
          return api.get("/chats?teamId=" + teamId, token);
        })
        .compose(r -> {
          seen.add(expect(r, 200));
          return api.get("/chats?teamId=" + new ObjectId().toHexString(), token);
        })
        .compose(r -> {
          seen.add(expect(r, 200));
          return api.delete("/chats/" + ((JsonObject) seen.get(1)).getString("id"), token);
        })
        .compose(r -> {
          seen.add(r.statusCode());
          return api.get("/chats/" + ((JsonObject) seen.get(1)).getString("id"), token);
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonObject created = (JsonObject) seen.get(1);
          assertThat(created.getString("title")).isEqualTo("Trip plan");
          assertThat(created.getString("teamId")).isEqualTo(teamId);
          assertThat(created.getLong("messageCount")).isZero();
          assertThat((String) seen.get(0)).isEqualTo(app.config().node().publicBaseUrl() + "/chats/" + created.getString("id"));
          assertThat(seen.get(2)).isEqualTo(created);
          JsonObject renamed = (JsonObject) seen.get(3);
          assertThat(renamed.getString("title")).isEqualTo("Renamed");
          assertThat(renamed.getString("id")).isEqualTo(created.getString("id"));
          JsonArray teamItems = ((JsonObject) seen.get(4)).getJsonArray("items");
          assertThat(teamItems).hasSize(1);
          assertThat(teamItems.getJsonObject(0).getString("title")).isEqualTo("Renamed");
          assertThat(((JsonObject) seen.get(5)).getJsonArray("items")).isEmpty();
          assertThat(seen.get(6)).isEqualTo(204);
          assertThat(r.statusCode()).isEqualTo(404);
          assertThat(error(r).getString("code")).isEqualTo("NOT_FOUND");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A session created without a body is titled 'New chat'")
  void defaultTitle(Vertx vertx, VertxTestContext ctx) {
    api.post("/chats", newToken(vertx), null).onComplete(ctx.succeeding(r -> ctx.verify(() -> {
      assertThat(expect(r, 201).getString("title")).isEqualTo("New chat");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("Sessions are listed newest activity first across pages, with limit checks")
  void listsSessionsInPages(Vertx vertx, VertxTestContext ctx) {
    String token = newToken(vertx);
    List<String> created = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < 5; i++) {
      int n = i;
      chain = chain.compose(v -> api.createSession(token, "s" + n).map(s -> {
        created.add(0, s.getString("id"));
        return null;
      }));
    }
    List<String> listed = new ArrayList<>();
    List<HttpResponse<Buffer>> bad = new ArrayList<>();
    chain.compose(v -> api.get("/chats?limit=2", token))
        .compose(r -> page(r, listed).compose(c -> api.get("/chats?limit=2&cursor=" + c, token)))
        .compose(r -> page(r, listed).compose(c -> api.get("/chats?limit=2&cursor=" + c, token)))
        .compose(r -> {
          JsonObject last = expect(r, 200);
          last.getJsonArray("items").forEach(o -> listed.add(((JsonObject) o).getString("id")));
          ctx.verify(() -> assertThat(last.getValue("nextCursor")).isNull());
          return Future.all(api.get("/chats?limit=0", token), api.get("/chats?limit=101", token),
              api.get("/chats?limit=abc", token), api.get("/chats?cursor=not-a-cursor", token),
              api.get("/chats?teamId=zzz", token));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          assertThat(listed).containsExactlyElementsOf(created);
          for (int i = 0; i < all.size(); i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
            assertThat(error(r).getString("code")).isEqualTo("VALIDATION_FAILED");
          }
          assertThat(error(all.resultAt(0)).getJsonObject("details").getJsonArray("fields").getJsonObject(0).getString("field"))
              .isEqualTo("limit");
          ctx.completeNow();
        })));
  }

  private static Future<String> page(HttpResponse<Buffer> r, List<String> into) {
    JsonObject p = expect(r, 200);
    assertThat(p.getJsonArray("items")).hasSize(2);
    p.getJsonArray("items").forEach(o -> into.add(((JsonObject) o).getString("id")));
    assertThat(p.getString("nextCursor")).isNotBlank();
    return Future.succeededFuture(p.getString("nextCursor"));
  }

  @Test
  @DisplayName("Bad titles, bad team ids and unknown fields are 400 VALIDATION_FAILED listing every field")
  void validatesSessionBodies(Vertx vertx, VertxTestContext ctx) {
    String token = newToken(vertx);
    api.createSession(token, "ok")
        .compose(s -> Future.all(List.of(
            api.post("/chats", token, new JsonObject().put("title", "   ")),
            api.post("/chats", token, new JsonObject().put("title", "x".repeat(201))),
            api.post("/chats", token, new JsonObject().put("title", 42)),
            api.post("/chats", token, new JsonObject().put("teamId", "team-1")),
            api.post("/chats", token, new JsonObject().put("title", "t").put("color", "red").put("emoji", "x")),
            api.post("/chats", token, new JsonObject().put("title", "").put("teamId", "nope")),
            api.patch("/chats/" + s.getString("id"), token, new JsonObject()),
            api.patch("/chats/" + s.getString("id"), token, new JsonObject().put("title", "t").put("teamId", new ObjectId().toHexString())))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<List<String>> fields = new ArrayList<>();
          for (int i = 0; i < all.size(); i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
            assertThat(error(r).getString("code")).isEqualTo("VALIDATION_FAILED");
            fields.add(error(r).getJsonObject("details").getJsonArray("fields").stream()
                .map(f -> ((JsonObject) f).getString("field")).toList());
          }
          assertThat(fields).containsExactly(
              List.of("title"), List.of("title"), List.of("title"), List.of("teamId"),
              List.of("color", "emoji"), List.of("title", "teamId"), List.of("title"), List.of("teamId"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Malformed JSON and non-object JSON are 400; non-JSON bodies are 415; oversized bodies are 413")
  void rejectsBadBodies(Vertx vertx, VertxTestContext ctx) {
    String token = newToken(vertx);
    api.createSession(token, "ok")
        .compose(s -> Future.all(List.of(
            api.raw(HttpMethod.POST, "/chats", token, "application/json", "{\"title\": "),
            api.raw(HttpMethod.POST, "/chats", token, "application/json", "[1,2]"),
            api.raw(HttpMethod.POST, "/chats", token, "text/plain", "title=x"),
            api.raw(HttpMethod.PATCH, "/chats/" + s.getString("id"), token, null, "{\"title\":\"x\"}"),
            api.raw(HttpMethod.POST, "/chats", token, "application/json",
                new JsonObject().put("title", "x".repeat(MAX_BODY)).encode()))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<String> got = new ArrayList<>();
          for (int i = 0; i < all.size(); i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            got.add(r.statusCode() + " " + error(r).getString("code"));
          }
          assertThat(got).containsExactly("400 VALIDATION_FAILED", "400 VALIDATION_FAILED",
              "415 UNSUPPORTED_MEDIA_TYPE", "415 UNSUPPORTED_MEDIA_TYPE", "413 PAYLOAD_TOO_LARGE");
          assertThat(error(all.resultAt(0)).getString("message")).isEqualTo("malformed JSON body");
          assertThat(error(all.resultAt(4)).getJsonObject("details").getInteger("maxBytes")).isEqualTo(MAX_BODY);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Unknown routes and malformed ids are 404, a wrong method is 405, a missing token is 401 with WWW-Authenticate")
  void routingErrors(Vertx vertx, VertxTestContext ctx) {
    String token = newToken(vertx);
    String someId = new ObjectId().toHexString();
    Future.all(List.of(
            api.get("/nope", null),
            api.get("/chats/" + someId + "/whatever", token),
            api.get("/chats/not-an-id", token),
            api.get("/chats/" + someId, token),
            api.request(HttpMethod.PUT, "/chats/" + someId, token).send(),
            api.get("/chats", null),
            api.get("/chatsx", null)))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<String> got = new ArrayList<>();
          for (int i = 0; i < all.size(); i++) {
            HttpResponse<Buffer> r = all.resultAt(i);
            assertThat(r.getHeader("Content-Type")).startsWith("application/json");
            got.add(r.statusCode() + " " + error(r).getString("code"));
          }
          assertThat(got).containsExactly("404 NOT_FOUND", "404 NOT_FOUND", "404 NOT_FOUND", "404 NOT_FOUND",
              "405 METHOD_NOT_ALLOWED", "401 UNAUTHENTICATED", "404 NOT_FOUND");
          HttpResponse<Buffer> unauth = all.resultAt(5);
          assertThat(unauth.getHeader("WWW-Authenticate")).startsWith("Bearer");
          assertThat(error(unauth).getString("message")).isEqualTo("missing bearer token");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("GET /health answers 200 when persistence answers, and GET /openapi.yaml serves the document")
  void healthAndOpenApi(Vertx vertx, VertxTestContext ctx) {
    Future.all(api.get("/health", null), api.get("/openapi.yaml", null))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          HttpResponse<Buffer> health = all.resultAt(0);
          assertThat(expect(health, 200).getString("status")).isEqualTo("ok");
          HttpResponse<Buffer> doc = all.resultAt(1);
          assertThat(doc.statusCode()).isEqualTo(200);
          assertThat(doc.getHeader("Content-Type")).startsWith("application/yaml");
          assertThat(doc.bodyAsString()).startsWith("openapi: 3").contains("/chats/{sessionId}/messages/{messageId}/cancel:");
          ctx.completeNow();
        })));
  }
}
