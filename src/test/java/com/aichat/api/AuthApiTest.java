package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.testing.TestJws.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestJws;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** JWT attacks against the real HTTP API configured with an issuer and an audience. */
@ExtendWith(VertxExtension.class)
class AuthApiTest {

  private static final String ISS = "https://auth.example.com/";
  private static final String AUD = "chat-api";
  @TempDir static Path dataDir;
  private static ApiClient api;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    JsonObject overrides = ApiClient.apiOnly()
        .put("auth", new JsonObject().put("issuer", ISS).put("audience", AUD));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      ctx.completeNow();
    }));
  }

  private static JsonObject good(String sub) {
    return claims(sub).put("iss", ISS).put("aud", AUD);
  }

  @Test
  @DisplayName("Each forged or unfit token is 401 UNAUTHENTICATED with its reason; a proper one is accepted")
  void refusesBadTokens(VertxTestContext ctx) {
    String user = TestTokens.newUserId();
    Map<String, String> tokens = new LinkedHashMap<>();
    tokens.put("alg none", TestJws.unsigned(good(user)));
    tokens.put("wrong key", TestJws.hs256("some-other-secret-0123456789-abcdefghijkl", good(user)));
    tokens.put("expired", TestJws.hs256(TestApp.TEST_SECRET, good(user).put("exp", Instant.now().getEpochSecond() - 60)));
    tokens.put("wrong audience", TestJws.hs256(TestApp.TEST_SECRET, good(user).put("aud", "billing")));
    tokens.put("wrong issuer", TestJws.hs256(TestApp.TEST_SECRET, good(user).put("iss", "https://evil.example.com/")));
    tokens.put("non-ObjectId subject", TestJws.hs256(TestApp.TEST_SECRET, good("user-42")));
    tokens.put("garbage", "not.a.jwt");
    Map<String, String> expected = Map.of(
        "alg none", "unsigned tokens are not accepted",
        "wrong key", "invalid signature",
        "expired", "token expired",
        "wrong audience", "wrong audience",
        "wrong issuer", "wrong issuer",
        "non-ObjectId subject", "user id claim is not an ObjectId",
        "garbage", "malformed token");
    Map<String, HttpResponse<Buffer>> results = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (var e : tokens.entrySet()) {
      chain = chain.compose(v -> api.get("/chats", e.getValue()).map(r -> {
        results.put(e.getKey(), r);
        return null;
      }));
    }
    chain
        .compose(v -> api.request(io.vertx.core.http.HttpMethod.GET, "/chats", null)
            .putHeader("Authorization", "Basic dXNlcjpwYXNz").send())
        .compose(basic -> {
          results.put("basic auth", basic);
          return api.get("/chats", TestJws.hs256(TestApp.TEST_SECRET, good(user)));
        })
        .onComplete(ctx.succeeding(ok -> ctx.verify(() -> {
          results.forEach((name, r) -> {
            assertThat(r.statusCode()).as(name).isEqualTo(401);
            assertThat(r.getHeader("WWW-Authenticate")).as(name).startsWith("Bearer");
            assertThat(error(r).getString("code")).as(name).isEqualTo("UNAUTHENTICATED");
            assertThat(error(r).getString("message")).as(name)
                .isEqualTo(expected.getOrDefault(name, "missing bearer token"));
          });
          assertThat(results).hasSize(8);
          assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A token without the configured audience and issuer (the plain test token) is refused")
  void requiresConfiguredClaims(Vertx vertx, VertxTestContext ctx) {
    api.get("/chats", TestTokens.token(vertx, TestTokens.newUserId()))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(401);
          assertThat(error(r).getString("message")).isEqualTo("wrong issuer");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("With auth.jwks_url, RS256 and ES256 tokens from the JWKS are accepted and a token from another key is 401")
  void jwksService(VertxTestContext ctx, @TempDir Path otherDir) {
    // A separate Vert.x instance: two apps on one event bus would share the persistence address.
    Vertx other = Vertx.vertx();
    var rsa = TestJws.rsaKeyPair();
    var ec = TestJws.ecKeyPair();
    var stranger = TestJws.rsaKeyPair();
    JsonObject jwks = new JsonObject().put("keys", new io.vertx.core.json.JsonArray()
        .add(TestJws.rsaJwk(rsa, "rsa-1")).add(TestJws.ecJwk(ec, "ec-1")));
    String user = TestTokens.newUserId();
    other.createHttpServer()
        .requestHandler(req -> req.response().putHeader("Content-Type", "application/json").end(jwks.encode()))
        .listen(0, "127.0.0.1")
        .compose(jwksServer -> TestApp.start(other, otherDir, ApiClient.apiOnly().put("auth", new JsonObject()
            .put("hs256_secret", "")
            .put("allow_any_audience", true)
            .put("jwks_url", "http://127.0.0.1:" + jwksServer.actualPort() + "/.well-known/jwks.json"))))
        .compose(app -> {
          ApiClient client = new ApiClient(other, app.httpPort());
          return Future.all(List.of(
              client.get("/chats", TestJws.rs256(rsa, "rsa-1", claims(user))),
              client.get("/chats", TestJws.es256(ec, "ec-1", claims(user))),
              client.get("/chats", TestJws.rs256(stranger, "rsa-1", claims(user))),
              client.get("/chats", TestJws.hs256(TestApp.TEST_SECRET, claims(user)))));
        })
        .onComplete(ar -> other.close())
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          HttpResponse<Buffer> rs = all.resultAt(0);
          HttpResponse<Buffer> es = all.resultAt(1);
          HttpResponse<Buffer> forged = all.resultAt(2);
          HttpResponse<Buffer> hmac = all.resultAt(3);
          assertThat(rs.statusCode()).as(rs.bodyAsString()).isEqualTo(200);
          assertThat(es.statusCode()).as(es.bodyAsString()).isEqualTo(200);
          assertThat(forged.statusCode()).isEqualTo(401);
          assertThat(error(forged).getString("message")).isEqualTo("invalid signature");
          assertThat(hmac.statusCode()).isEqualTo(401);
          assertThat(error(hmac).getString("message")).isEqualTo("algorithm HS256 is not accepted");
          ctx.completeNow();
        })));
  }
}
