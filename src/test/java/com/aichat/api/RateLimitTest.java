package com.aichat.api;

import static com.aichat.api.ApiClient.error;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class RateLimitTest {

  private static final int PER_MINUTE = 3;
  @TempDir static Path dataDir;
  private static ApiClient api;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    // Two API instances: the limit is per process, shared by both.
    JsonObject overrides = ApiClient.apiOnly()
        .put("verticles", ApiClient.apiOnly().getJsonObject("verticles").copy().put("api", 2))
        .put("rate_limit", new JsonObject().put("requests_per_minute", PER_MINUTE));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      ctx.completeNow();
    }));
  }

  @Test
  @DisplayName("A user over requests_per_minute gets 429 RATE_LIMITED with Retry-After; another user is unaffected")
  void limitsPerUser(Vertx vertx, VertxTestContext ctx) {
    String busy = TestTokens.token(vertx, TestTokens.newUserId());
    String calm = TestTokens.token(vertx, TestTokens.newUserId());
    List<HttpResponse<Buffer>> got = new ArrayList<>();
    // Seven sequential requests: even if a minute boundary falls in between, at most 2 x 3 pass.
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < 2 * PER_MINUTE + 1; i++) {
      chain = chain.compose(v -> api.get("/chats", busy).map(r -> {
        got.add(r);
        return null;
      }));
    }
    chain.compose(v -> api.get("/chats", calm))
        .onComplete(ctx.succeeding(other -> ctx.verify(() -> {
          List<HttpResponse<Buffer>> limited = got.stream().filter(r -> r.statusCode() == 429).toList();
          assertThat(got.stream().filter(r -> r.statusCode() == 200)).as(got.stream().map(r -> r.statusCode() + r.bodyAsString()).toList().toString()).hasSizeBetween(PER_MINUTE, 2 * PER_MINUTE);
          assertThat(limited).isNotEmpty();
          HttpResponse<Buffer> r = limited.get(0);
          assertThat(error(r).getString("code")).isEqualTo("RATE_LIMITED");
          assertThat(Long.parseLong(r.getHeader("Retry-After"))).isBetween(1L, 60L);
          assertThat(Instant.parse(error(r).getJsonObject("details").getString("resetAt"))).isAfter(Instant.now().minusSeconds(1));
          assertThat(other.statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }
}
