package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class CorsTest {

  @Test
  @DisplayName("With http.cors_origins set, a browser preflight from that origin is allowed and other origins are not")
  void answersPreflight(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    JsonObject overrides = ApiClient.apiOnly()
        .put("http", new JsonObject().put("cors_origins", new JsonArray().add("https://app.example.com")));
    TestApp.start(vertx, dataDir, overrides)
        .compose(app -> {
          ApiClient api = new ApiClient(vertx, app.httpPort());
          return Future.all(preflight(api, "https://app.example.com"), preflight(api, "https://evil.example.com"));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          HttpResponse<Buffer> ok = all.resultAt(0);
          HttpResponse<Buffer> other = all.resultAt(1);
          assertThat(ok.statusCode()).isEqualTo(204);
          assertThat(ok.getHeader("Access-Control-Allow-Origin")).isEqualTo("https://app.example.com");
          assertThat(ok.getHeader("Access-Control-Allow-Headers")).containsIgnoringCase("authorization");
          assertThat(other.getHeader("Access-Control-Allow-Origin")).isNull();
          ctx.completeNow();
        })));
  }

  private static Future<HttpResponse<Buffer>> preflight(ApiClient api, String origin) {
    return api.request(HttpMethod.OPTIONS, "/chats", null)
        .putHeader("Origin", origin)
        .putHeader("Access-Control-Request-Method", "POST")
        .putHeader("Access-Control-Request-Headers", "authorization,content-type")
        .send();
  }
}
