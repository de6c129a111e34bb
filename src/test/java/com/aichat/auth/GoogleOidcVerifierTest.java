package com.aichat.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.auth.GoogleOidcVerifier.OidcRejection;
import com.aichat.testing.FakeCloudTasksServer;
import com.aichat.testing.TestOidcIssuer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Cloud Tasks OIDC verifier against a local issuer whose JWKS is served over real HTTP. */
@ExtendWith(VertxExtension.class)
class GoogleOidcVerifierTest {

  static final String SA = "chat-tasks@demo-project.iam.gserviceaccount.com";
  static final String AUD = "https://chat.example.com/internal/chat-ai-worker";

  final TestOidcIssuer issuer = new TestOidcIssuer();
  FakeCloudTasksServer jwksHost;
  GoogleOidcVerifier verifier;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    jwksHost = new FakeCloudTasksServer(vertx, issuer);
    jwksHost.start()
        .onSuccess(h -> verifier = new GoogleOidcVerifier(vertx, h.jwksUrl(), AUD, SA, Clock.systemUTC()))
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    verifier.close();
    jwksHost.close().onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A token signed by the trusted key for our audience and service account is accepted")
  void acceptsValidToken(VertxTestContext ctx) {
    verifier.verify(issuer.token(SA, AUD)).onComplete(ctx.succeeding(claims -> ctx.verify(() -> {
      assertThat(claims.getString("email")).isEqualTo(SA);
      assertThat(claims.getString("aud")).isEqualTo(AUD);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("The bare issuer form accounts.google.com is accepted too")
  void acceptsBareIssuer(VertxTestContext ctx) {
    String token = issuer.sign(TestOidcIssuer.claims(SA, AUD).put("iss", "accounts.google.com"));
    verifier.verify(token).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A key published after the JWKS was cached is fetched when a token names it (throttled to one fetch per interval)")
  void refetchesKeysOnUnknownKid(Vertx vertx, VertxTestContext ctx) {
    AtomicLong now = new AtomicLong(System.currentTimeMillis());
    Clock clock = new Clock() {
      @Override public ZoneId getZone() { return ZoneOffset.UTC; }
      @Override public Clock withZone(ZoneId zone) { return this; }
      @Override public Instant instant() { return Instant.ofEpochMilli(now.get()); }
    };
    GoogleOidcVerifier v = new GoogleOidcVerifier(vertx, jwksHost.jwksUrl(), AUD, SA, clock);
    v.verify(issuer.token(SA, AUD))
        .compose(first -> {
          issuer.rotate();
          // Right after a fetch, an unknown kid does not trigger another one.
          return v.verify(issuer.signWithRotatedKey(TestOidcIssuer.claims(SA, AUD))).transform(ar -> {
            ctx.verify(() -> assertThat(ar.failed()).isTrue());
            now.addAndGet(GoogleOidcVerifier.MIN_REFRESH_INTERVAL_MS + 1);
            return v.verify(issuer.signWithRotatedKey(TestOidcIssuer.claims(SA, AUD)));
          });
        })
        .onComplete(ctx.succeeding(claims -> ctx.verify(() -> {
          assertThat(claims.getString("email")).isEqualTo(SA);
          v.close();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Every forged or unfit token is rejected, with 401 for bad tokens and 403 for tokens not meant for us")
  void rejectsForgeries(VertxTestContext ctx) {
    long now = Instant.now().getEpochSecond();
    Map<String, Function<JsonObject, String>> forgeries = new LinkedHashMap<>();
    Map<String, Integer> expected = new LinkedHashMap<>();
    forgeries.put("wrong audience", c -> issuer.sign(c.put("aud", "https://evil.example.com/internal/chat-ai-worker")));
    expected.put("wrong audience", 403);
    forgeries.put("audience list with extra entry", c -> issuer.sign(c.put("aud", new JsonArray().add(AUD).add("other"))));
    expected.put("audience list with extra entry", 403);
    forgeries.put("wrong issuer", c -> issuer.sign(c.put("iss", "https://issuer.example.com")));
    expected.put("wrong issuer", 401);
    forgeries.put("wrong email", c -> issuer.sign(c.put("email", "someone@demo-project.iam.gserviceaccount.com")));
    expected.put("wrong email", 403);
    forgeries.put("email not verified", c -> issuer.sign(c.put("email_verified", false)));
    expected.put("email not verified", 403);
    forgeries.put("expired", c -> issuer.sign(c.put("iat", now - 7200).put("exp", now - 3600)));
    expected.put("expired", 401);
    forgeries.put("issued in the future", c -> issuer.sign(c.put("iat", now + 3600).put("exp", now + 7200)));
    expected.put("issued in the future", 401);
    forgeries.put("unsigned alg none", issuer::unsigned);
    expected.put("unsigned alg none", 401);
    forgeries.put("signed by an unknown key", issuer::signWithUnknownKey);
    expected.put("signed by an unknown key", 401);
    forgeries.put("foreign key under the trusted kid", issuer::signWithWrongKeyForKnownKid);
    expected.put("foreign key under the trusted kid", 401);
    forgeries.put("not a JWT", c -> "not-a-jwt");
    expected.put("not a JWT", 401);

    Checkpoint rejected = ctx.checkpoint(forgeries.size());
    // Sequentially, so the unknown-key case also exercises the throttled JWKS refresh.
    Future<Void> chain = Future.succeededFuture();
    for (Map.Entry<String, Function<JsonObject, String>> f : forgeries.entrySet()) {
      String token = f.getValue().apply(TestOidcIssuer.claims(SA, AUD));
      chain = chain.compose(v -> verifier.verify(token)
          .transform(ar -> {
            ctx.verify(() -> {
              assertThat(ar.succeeded()).as(f.getKey()).isFalse();
              assertThat(ar.cause()).as(f.getKey()).isInstanceOf(OidcRejection.class);
              assertThat(((OidcRejection) ar.cause()).status()).as(f.getKey()).isEqualTo(expected.get(f.getKey()));
            });
            rejected.flag();
            return Future.succeededFuture();
          }));
    }
  }
}
