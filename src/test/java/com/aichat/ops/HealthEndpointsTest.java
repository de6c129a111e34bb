package com.aichat.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.Main;
import com.aichat.AppConfig;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("/health/live and /health/ready")
class HealthEndpointsTest {

  private WebClient http;
  private AppConfig cfg;
  private List<String> ids;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject overrides) {
    http = WebClient.create(vertx);
    cfg = AppConfig.from(TestApp.config(dir, overrides));
    return Main.start(vertx, cfg).map(started -> {
      ids = started;
      return null;
    });
  }

  @AfterEach
  void close() {
    http.close();
  }

  private Future<HttpResponse<JsonObject>> get(String path) {
    return http.get(cfg.http().port(), "127.0.0.1", path).as(BodyCodec.jsonObject()).send();
  }

  @Test
  @DisplayName("a fully deployed node is live and ready, every check reported ok; /health is unchanged")
  void ready(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, null)
        .compose(v -> get("/health/live"))
        .compose(live -> {
          ctx.verify(() -> {
            assertThat(live.statusCode()).isEqualTo(200);
            assertThat(live.body().getString("status")).isEqualTo("ok");
          });
          return get("/health");
        })
        .compose(health -> {
          ctx.verify(() -> assertThat(health.statusCode()).isEqualTo(200));
          return get("/health/ready");
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(200);
          JsonObject body = r.body();
          assertThat(body.getString("status")).isEqualTo("ready");
          assertThat(body.getJsonArray("failed")).isEmpty();
          JsonObject checks = body.getJsonObject("checks");
          assertThat(checks.fieldNames()).containsExactlyInAnyOrder("draining", "verticles", "store", "provider", "cluster");
          assertThat(checks.getJsonObject("verticles").getJsonArray("expected").getList())
              .containsExactlyInAnyOrder("persistence", "worker", "dispatcher", "api", "gateway");
          assertThat(checks.getJsonObject("provider").getString("provider")).isEqualTo("offline");
          assertThat(checks.getJsonObject("cluster").getBoolean("enabled")).isFalse();
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a verticle kind that is no longer deployed makes the node not ready: 503 naming the check and the kind")
  void verticleGone(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, null)
        .compose(v -> vertx.undeploy(ids.get(1))) // deployment order: persistence, worker, ...
        .compose(v -> get("/health/ready"))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(503);
          assertThat(r.body().getString("status")).isEqualTo("not_ready");
          assertThat(r.body().getJsonArray("failed").getList()).containsExactly("verticles");
          assertThat(r.body().getJsonObject("checks").getJsonObject("verticles").getJsonArray("missing").getList())
              .containsExactly("worker");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("without a store answering, the node is live but not ready (failed: store)")
  void storeDown(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, new JsonObject().put("verticles", new JsonObject().put("persistence", 0)))
        .compose(v -> get("/health/live"))
        .compose(live -> {
          ctx.verify(() -> assertThat(live.statusCode()).isEqualTo(200));
          return get("/health/ready");
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(503);
          assertThat(r.body().getJsonArray("failed").getList()).containsExactly("store");
          assertThat(r.body().getJsonObject("checks").getJsonObject("store").getString("error"))
              .isEqualTo("persistence is not answering");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("a draining node is not ready and refuses sends with 503 DRAINING and Retry-After; reads still work")
  void draining(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    String[] session = new String[1];
    start(vertx, dir, null)
        .compose(v -> http.post(cfg.http().port(), "127.0.0.1", "/chats").bearerTokenAuthentication(token)
            .as(BodyCodec.jsonObject()).sendJsonObject(new JsonObject().put("title", "t")))
        .compose(r -> {
          session[0] = r.body().getString("id");
          NodeLifecycle.of(vertx).startDraining();
          return get("/health/ready");
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body().getJsonArray("failed").getList()).containsExactly("draining");
          });
          return http.post(cfg.http().port(), "127.0.0.1", "/chats/" + session[0] + "/messages")
              .bearerTokenAuthentication(token).as(BodyCodec.jsonObject())
              .sendJsonObject(new JsonObject().put("content", "hello"));
        })
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body().getJsonObject("error").getString("code")).isEqualTo("DRAINING");
            assertThat(r.getHeader("Retry-After")).isEqualTo("1");
          });
          return http.get(cfg.http().port(), "127.0.0.1", "/chats/" + session[0] + "/messages")
              .bearerTokenAuthentication(token).as(BodyCodec.jsonObject()).send();
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(200);
          assertThat(r.body().getJsonArray("items")).isEmpty();
          ctx.completeNow();
        })));
  }
}
