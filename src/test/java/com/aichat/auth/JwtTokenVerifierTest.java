package com.aichat.auth;

import static com.aichat.testing.TestJws.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ErrorCode;
import com.aichat.contract.ServiceFailure;
import com.aichat.testing.TestJws;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class JwtTokenVerifierTest {

  private static final String SECRET = "unit-test-secret-0123456789-abcdefghijklmnop";
  private static final String USER = new ObjectId().toHexString();

  private static AuthSettings hs256(String issuer, String audience) {
    return new AuthSettings(SECRET, null, 600, issuer, audience, "sub", 5, null);
  }

  private static AuthSettings jwks(String url) {
    return new AuthSettings(null, url, 600, null, null, "sub", 5, null);
  }

  private static void expectRefusal(Vertx vertx, VertxTestContext ctx, AuthSettings s, String token, String reason) {
    JwtTokenVerifier.create(vertx, s)
        .compose(v -> v.verify(token))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err).isInstanceOf(ServiceFailure.class);
          assertThat(((ServiceFailure) err).code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
          assertThat(err.getMessage()).isEqualTo(reason);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A valid HS256 token yields the user id, its claims and expiry")
  void acceptsValidHs256(Vertx vertx, VertxTestContext ctx) {
    JsonObject claims = claims(USER.toUpperCase()).put("iss", "https://issuer").put("aud", new JsonArray().add("other").add("chat"));
    JwtTokenVerifier.create(vertx, hs256("https://issuer", "chat"))
        .compose(v -> v.verify(TestJws.hs256(SECRET, claims)))
        .onComplete(ctx.succeeding(user -> ctx.verify(() -> {
          assertThat(user.userId()).isEqualTo(USER);
          assertThat(user.claims().getString("iss")).isEqualTo("https://issuer");
          assertThat(user.expiresAt()).isAfter(Instant.now());
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A missing token is refused")
  void refusesMissing(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null), "", "missing bearer token");
  }

  @Test
  @DisplayName("A token that is not three base64url parts is refused as malformed")
  void refusesMalformed(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null), "abc.def", "malformed token");
  }

  @Test
  @DisplayName("alg none is refused")
  void refusesAlgNone(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null), TestJws.unsigned(claims(USER)), "unsigned tokens are not accepted");
  }

  @Test
  @DisplayName("A token signed with another key is refused")
  void refusesWrongKey(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null),
        TestJws.hs256("another-secret-0123456789-abcdefghijklmnopq", claims(USER)), "invalid signature");
  }

  @Test
  @DisplayName("An expired token is refused (beyond the leeway)")
  void refusesExpired(Vertx vertx, VertxTestContext ctx) {
    JsonObject c = claims(USER).put("exp", Instant.now().getEpochSecond() - 30);
    expectRefusal(vertx, ctx, hs256(null, null), TestJws.hs256(SECRET, c), "token expired");
  }

  @Test
  @DisplayName("A token that expired within the leeway is still accepted")
  void acceptsWithinLeeway(Vertx vertx, VertxTestContext ctx) {
    JsonObject c = claims(USER).put("exp", Instant.now().getEpochSecond() - 2);
    JwtTokenVerifier.create(vertx, hs256(null, null))
        .compose(v -> v.verify(TestJws.hs256(SECRET, c)))
        .onComplete(ctx.succeeding(u -> ctx.verify(() -> {
          assertThat(u.userId()).isEqualTo(USER);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A token without exp is refused")
  void refusesNoExpiry(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null), TestJws.hs256(SECRET, new JsonObject().put("sub", USER)), "token has no expiry");
  }

  @Test
  @DisplayName("A token whose nbf is in the future is refused")
  void refusesNotYetValid(Vertx vertx, VertxTestContext ctx) {
    JsonObject c = claims(USER).put("nbf", Instant.now().getEpochSecond() + 600);
    expectRefusal(vertx, ctx, hs256(null, null), TestJws.hs256(SECRET, c), "token not yet valid");
  }

  @Test
  @DisplayName("A token for another audience is refused")
  void refusesWrongAudience(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, "chat"), TestJws.hs256(SECRET, claims(USER).put("aud", "billing")), "wrong audience");
  }

  @Test
  @DisplayName("A token from another issuer is refused")
  void refusesWrongIssuer(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256("https://good", null), TestJws.hs256(SECRET, claims(USER).put("iss", "https://evil")), "wrong issuer");
  }

  @Test
  @DisplayName("A subject that is not an ObjectId is refused with a clear reason")
  void refusesNonObjectIdSubject(Vertx vertx, VertxTestContext ctx) {
    expectRefusal(vertx, ctx, hs256(null, null), TestJws.hs256(SECRET, claims("alice@example.com")), "user id claim is not an ObjectId");
  }

  @Test
  @DisplayName("The user id is read from a configured dotted claim path")
  void readsDottedUserIdClaim(Vertx vertx, VertxTestContext ctx) {
    AuthSettings s = new AuthSettings(SECRET, null, 600, null, null, "app.user.id", 5, null);
    JsonObject c = new JsonObject().put("sub", "auth0|123").put("exp", Instant.now().getEpochSecond() + 60)
        .put("app", new JsonObject().put("user", new JsonObject().put("id", USER)));
    JwtTokenVerifier.create(vertx, s)
        .compose(v -> v.verify(TestJws.hs256(SECRET, c)))
        .onComplete(ctx.succeeding(u -> ctx.verify(() -> {
          assertThat(u.userId()).isEqualTo(USER);
          ctx.completeNow();
        })));
  }

  private static Future<HttpServer> serveJwks(Vertx vertx, AtomicReference<JsonObject> doc) {
    return vertx.createHttpServer()
        .requestHandler(req -> req.response().putHeader("Content-Type", "application/json").end(doc.get().encode()))
        .listen(0, "127.0.0.1");
  }

  @Test
  @DisplayName("RS256 and ES256 tokens are verified with keys from a JWKS URL")
  void verifiesJwksKeys(Vertx vertx, VertxTestContext ctx) {
    KeyPair rsa = TestJws.rsaKeyPair();
    KeyPair ec = TestJws.ecKeyPair();
    AtomicReference<JsonObject> doc = new AtomicReference<>(new JsonObject().put("keys",
        new JsonArray().add(TestJws.rsaJwk(rsa, "r1")).add(TestJws.ecJwk(ec, "e1"))
            .add(new JsonObject().put("kty", "oct").put("kid", "h1").put("k", TestJws.b64(SECRET.getBytes())))));
    serveJwks(vertx, doc)
        .compose(server -> JwtTokenVerifier.create(vertx, jwks("http://127.0.0.1:" + server.actualPort() + "/jwks")))
        .compose(v -> v.verify(TestJws.rs256(rsa, "r1", claims(USER)))
            .compose(u1 -> v.verify(TestJws.es256(ec, "e1", claims(USER))).map(u2 -> List.of(u1, u2)))
            .compose(users -> v.verify(TestJws.hs256(SECRET.getBytes(StandardCharsets.UTF_8), new JsonObject().put("kid", "h1"), claims(USER)))
                .map(x -> users)
                .recover(err -> {
                  ctx.verify(() -> assertThat(err.getMessage()).isEqualTo("algorithm HS256 is not accepted"));
                  return Future.succeededFuture(users);
                })))
        .onComplete(ctx.succeeding(users -> ctx.verify(() -> {
          assertThat(users).extracting(AuthenticatedUser::userId).containsExactly(USER, USER);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Algorithm confusion (HS256 signed with the RSA public key) is refused in JWKS mode")
  void refusesAlgorithmConfusion(Vertx vertx, VertxTestContext ctx) {
    KeyPair rsa = TestJws.rsaKeyPair();
    AtomicReference<JsonObject> doc = new AtomicReference<>(
        new JsonObject().put("keys", new JsonArray().add(TestJws.rsaJwk(rsa, "r1"))));
    String forged = TestJws.hs256(rsa.getPublic().getEncoded(), new JsonObject().put("kid", "r1"), claims(USER));
    serveJwks(vertx, doc)
        .compose(server -> JwtTokenVerifier.create(vertx, jwks("http://127.0.0.1:" + server.actualPort() + "/jwks")))
        .compose(v -> v.verify(forged))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(err.getMessage()).isEqualTo("algorithm HS256 is not accepted");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A token signed by a rotated-in key is accepted after the JWKS is refetched for its unknown kid")
  void refreshesOnUnknownKid(Vertx vertx, VertxTestContext ctx) {
    KeyPair oldKey = TestJws.rsaKeyPair();
    KeyPair newKey = TestJws.rsaKeyPair();
    AtomicReference<JsonObject> doc = new AtomicReference<>(
        new JsonObject().put("keys", new JsonArray().add(TestJws.rsaJwk(oldKey, "old"))));
    String token = TestJws.rs256(newKey, "new", claims(USER));
    serveJwks(vertx, doc)
        .compose(server -> JwtTokenVerifier.create(vertx, jwks("http://127.0.0.1:" + server.actualPort() + "/jwks"), 0))
        .compose(v -> v.verify(token)
            .map(u -> "unexpectedly accepted")
            .recover(err -> Future.succeededFuture(err.getMessage()))
            .compose(firstReason -> {
              doc.set(new JsonObject().put("keys", new JsonArray().add(TestJws.rsaJwk(newKey, "new"))));
              return v.verify(token).map(u -> List.of(firstReason, u.userId()));
            }))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r).containsExactly("unknown signing key", USER);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("An unreachable JWKS does not stop startup; requests answer UNAVAILABLE until keys arrive")
  void unreachableJwksIsUnavailable(Vertx vertx, VertxTestContext ctx) {
    KeyPair rsa = TestJws.rsaKeyPair();
    JwtTokenVerifier.create(vertx, jwks("http://127.0.0.1:" + com.aichat.testing.TestApp.freePort() + "/jwks"))
        .compose(v -> v.verify(TestJws.rs256(rsa, "r1", claims(USER))))
        .onComplete(ctx.failing(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.UNAVAILABLE);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("The dev secret is generated once, owner-only, shared by concurrent creators, and signs dev-token tokens")
  void devSecretIsGeneratedOnce(Vertx vertx, VertxTestContext ctx, @TempDir Path dir) {
    Path file = dir.resolve("nested/data").resolve(AuthSettings.DEV_SECRET_FILE_NAME);
    AuthSettings s = new AuthSettings(null, null, 600, null, null, "sub", 5, file);
    Future.all(List.of(DevSecretStore.loadOrCreate(vertx, file), DevSecretStore.loadOrCreate(vertx, file),
            DevSecretStore.loadOrCreate(vertx, file)))
        .compose(all -> DevTokenCommand.mint(vertx, s, DevTokenCommand.parse(List.of(USER, "--ttl", "60", "--claim", "subscription.status=active")))
            .compose(token -> JwtTokenVerifier.create(vertx, s).compose(v -> v.verify(token)))
            .map(user -> {
              ctx.verify(() -> {
                assertThat(List.of(all.<String>resultAt(1), all.<String>resultAt(2))).containsOnly(all.<String>resultAt(0));
                String secret = all.resultAt(0);
                assertThat(secret).hasSizeGreaterThanOrEqualTo(43);
                assertThat(Files.readString(file).trim()).isEqualTo(secret);
                assertThat(Files.getPosixFilePermissions(file))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
                try (var listing = Files.list(file.getParent())) {
                  assertThat(listing.map(p -> p.getFileName().toString())).containsExactly(AuthSettings.DEV_SECRET_FILE_NAME);
                }
                assertThat(user.userId()).isEqualTo(USER);
                assertThat(user.claims().getJsonObject("subscription").getString("status")).isEqualTo("active");
                assertThat(user.expiresAt()).isBefore(Instant.now().plusSeconds(61));
              });
              return user;
            }))
        .onComplete(ctx.succeeding(u -> ctx.completeNow()));
  }

  @Test
  @DisplayName("dev-token arguments: a generated id without a user, --ttl parsing, bad input refused")
  void parsesDevTokenArguments() {
    DevTokenCommand.Args generated = DevTokenCommand.parse(List.of());
    assertThat(generated.generated()).isTrue();
    assertThat(ObjectId.isValid(generated.userId())).isTrue();
    assertThat(generated.ttlSeconds()).isEqualTo(DevTokenCommand.DEFAULT_TTL_SECONDS);
    assertThat(DevTokenCommand.parse(List.of("--ttl=90", USER))).isEqualTo(new DevTokenCommand.Args(USER, false, 90));
    DevTokenCommand.Args withClaims =
        DevTokenCommand.parse(List.of(USER, "--claim", "subscription.status=active", "--claim", "subscription.plan=pro"));
    assertThat(withClaims.claims()).containsExactlyInAnyOrderEntriesOf(
        java.util.Map.of("subscription.status", "active", "subscription.plan", "pro"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DevTokenCommand.parse(List.of("--claim", "novalue")))
        .hasMessageContaining("--claim");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DevTokenCommand.parse(List.of("not-an-id")))
        .hasMessageContaining("ObjectId");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DevTokenCommand.parse(List.of("--ttl", "x")))
        .hasMessageContaining("--ttl");
  }
}
