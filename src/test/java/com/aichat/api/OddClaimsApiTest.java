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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 finding 11: validly signed tokens whose time claims have odd types or values are 401
 * UNAUTHENTICATED with a short reason, never a 500; {@code iat} in the future (beyond the leeway) is
 * refused as the README says.
 */
@ExtendWith(VertxExtension.class)
class OddClaimsApiTest {

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
  @DisplayName("String, huge, fractional-overflow and non-numeric exp/nbf/iat are 401 with a reason, never 500")
  void oddTimeClaimsAre401(VertxTestContext ctx) {
    String user = TestTokens.newUserId();
    long now = Instant.now().getEpochSecond();
    BigInteger huge = new BigInteger("1" + "0".repeat(30));
    Map<String, JsonObject> cases = new LinkedHashMap<>();
    cases.put("string exp", claims(user).put("exp", String.valueOf(now + 3600)));
    cases.put("double exp 1e300", claims(user).put("exp", 1e300));
    cases.put("long max exp", claims(user).put("exp", Long.MAX_VALUE));
    // 10^30 + (now - 10^30 mod 2^64) would wrap to a plausible value if read with longValue()
    cases.put("bigint exp", claims(user).put("exp", huge));
    cases.put("object exp", claims(user).put("exp", new JsonObject().put("$gt", 0)));
    cases.put("array exp", claims(user).put("exp", new JsonArray().add(now + 3600)));
    cases.put("boolean exp", claims(user).put("exp", true));
    cases.put("string nbf", claims(user).put("nbf", "0"));
    cases.put("huge nbf", claims(user).put("nbf", 1e300));
    cases.put("string iat", claims(user).put("iat", String.valueOf(now)));
    cases.put("huge iat", claims(user).put("iat", huge));
    cases.put("future iat", claims(user).put("iat", now + 3600));
    cases.put("negative huge exp", claims(user).put("exp", -1e300));
    Map<String, String> reasons = Map.ofEntries(
        Map.entry("string exp", "invalid exp claim"),
        Map.entry("double exp 1e300", "invalid exp claim"),
        Map.entry("long max exp", "invalid exp claim"),
        Map.entry("bigint exp", "invalid exp claim"),
        Map.entry("object exp", "invalid exp claim"),
        Map.entry("array exp", "invalid exp claim"),
        Map.entry("boolean exp", "invalid exp claim"),
        Map.entry("string nbf", "invalid nbf claim"),
        Map.entry("huge nbf", "invalid nbf claim"),
        Map.entry("string iat", "invalid iat claim"),
        Map.entry("huge iat", "invalid iat claim"),
        Map.entry("future iat", "token issued in the future"),
        Map.entry("negative huge exp", "invalid exp claim"));
    Map<String, HttpResponse<Buffer>> results = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (var e : cases.entrySet()) {
      chain = chain.compose(v -> api.get("/chats", TestJws.hs256(TestApp.TEST_SECRET, e.getValue())).map(r -> {
        results.put(e.getKey(), r);
        return null;
      }));
    }
    chain
        .compose(v -> api.get("/chats", TestJws.hs256(TestApp.TEST_SECRET,
            claims(user).put("iat", now + 3).put("nbf", now + 3).put("exp", now + 3600.5))))
        .onComplete(ctx.succeeding(withinLeeway -> ctx.verify(() -> {
          results.forEach((name, r) -> {
            assertThat(r.statusCode()).as(name + ": " + r.bodyAsString()).isEqualTo(401);
            assertThat(r.bodyAsString()).as(name).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(error(r).getString("code")).as(name).isEqualTo("UNAUTHENTICATED");
            assertThat(error(r).getString("message")).as(name).isEqualTo(reasons.get(name));
          });
          assertThat(withinLeeway.statusCode()).as(withinLeeway.bodyAsString()).isEqualTo(200);
          ctx.completeNow();
        })));
  }
}
