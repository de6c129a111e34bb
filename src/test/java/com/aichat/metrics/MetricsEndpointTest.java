package com.aichat.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.Main;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.AppConfig;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
@DisplayName("GET /metrics: Vert.x and domain meters in the Prometheus text format")
class MetricsEndpointTest {

  private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-fA-F]{24}");

  private Vertx node;
  private FakeAnthropicServer fake;
  private WebClient http;
  private AppConfig cfg;

  private Future<Void> start(Vertx vertx, Path dir, JsonObject extra) {
    http = WebClient.create(vertx);
    fake = new FakeAnthropicServer(vertx);
    return fake.start().compose(f -> {
      JsonObject overrides = GenerationHarness.claudeOverrides(f);
      overrides.mergeIn(extra, true);
      cfg = AppConfig.from(TestApp.config(dir, overrides));
      return Main.newVertx(cfg);
    }).compose(v -> {
      node = v;
      return Main.start(node, cfg);
    }).mapEmpty();
  }

  @AfterEach
  void stop(VertxTestContext ctx) throws Throwable {
    Future<Void> closed = node == null ? Future.succeededFuture() : node.close();
    closed.compose(v -> fake.close()).onComplete(ctx.succeedingThenComplete());
    ctx.awaitCompletion(20, TimeUnit.SECONDS);
  }

  private Future<HttpResponse<Buffer>> get(int port, String path) {
    return http.get(port, "127.0.0.1", path).send();
  }

  private Future<PromText> scrape() {
    return get(cfg.http().port(), "/metrics").map(r -> {
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("Content-Type")).startsWith("text/plain; version=0.0.4");
      return PromText.parse(r.bodyAsString());
    });
  }

  private Future<HttpResponse<JsonObject>> call(String method, String token, String path, JsonObject body) {
    var req = http.request(io.vertx.core.http.HttpMethod.valueOf(method), cfg.http().port(), "127.0.0.1", path)
        .bearerTokenAuthentication(token).as(BodyCodec.jsonObject());
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  private Future<JsonObject> pollUntilFinal(Vertx vertx, String token, String path) {
    Promise<JsonObject> p = Promise.promise();
    vertx.setPeriodic(50, t -> call("GET", token, path, null).onSuccess(r -> {
      if (r.statusCode() == 200 && List.of("completed", "failed", "cancelled").contains(r.body().getString("status"))) {
        vertx.cancelTimer(t);
        p.tryComplete(r.body());
      }
    }));
    return p.future();
  }

  @Test
  @DisplayName("a reply that is retried once moves the domain counters and histograms, every line parses, no label carries an id")
  void domainMetricsMove(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String user = TestTokens.newUserId();
    String token = TestTokens.token(vertx, user);
    String flooder = TestTokens.token(vertx, TestTokens.newUserId());
    List<String> ids = new ArrayList<>(List.of(user));
    PromText[] before = new PromText[1];
    JsonObject extra = new JsonObject().put("rate_limit", new JsonObject().put("requests_per_minute", 200));
    start(vertx, dir, extra)
        .compose(v -> {
          // one overloaded answer (529), then a stream of 40 words
          fake.script("metrics-q", new FakeAnthropicServer.Status(529, "overloaded_error", null),
              FakeAnthropicServer.stream(FakeAnthropicServer.words(40), 2));
          return scrape();
        })
        .compose(s -> {
          before[0] = s;
          return call("POST", token, "/chats", new JsonObject().put("title", "metrics"));
        })
        .compose(r -> {
          ids.add(r.body().getString("id"));
          return call("POST", token, "/chats/" + r.body().getString("id") + "/messages",
              new JsonObject().put("content", "metrics-q please"));
        })
        .compose(r -> {
          JsonObject reply = r.body().getJsonObject("reply");
          ids.add(reply.getString("id"));
          ids.add(r.body().getJsonObject("userMessage").getString("id"));
          return pollUntilFinal(vertx, token, "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id"));
        })
        .compose(reply -> {
          ctx.verify(() -> assertThat(reply.getString("status")).isEqualTo("completed"));
          return flood(flooder, 230);
        })
        .compose(statuses -> {
          ctx.verify(() -> assertThat(statuses).contains(429));
          return scrape();
        })
        .onComplete(ctx.succeeding(after -> ctx.verify(() -> {
          PromText b = before[0];
          assertThat(delta(b, after, "aichat_replies_total", "outcome", "completed")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_reply_retries_total")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_provider_errors_total")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_reply_queue_wait_seconds_count")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_reply_first_token_seconds_count")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_generation_duration_seconds_count", "outcome", "completed")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_generation_duration_seconds_count", "outcome", "error")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_generation_tokens_per_second_count")).isEqualTo(1);
          assertThat(delta(b, after, "aichat_tokens_total", "kind", "input")).isEqualTo(25);
          assertThat(delta(b, after, "aichat_tokens_total", "kind", "output")).isGreaterThan(1);
          assertThat(after.has("aichat_tokens_total", "kind", "cache_read")).isTrue();
          assertThat(delta(b, after, "aichat_requests_refused_total", "reason", "rate_limited")).isGreaterThanOrEqualTo(1);
          assertThat(after.has("aichat_reply_queue_wait_seconds_bucket", "le", "+Inf")).isTrue();
          assertThat(after.sum("aichat_streams_active")).isZero();
          assertThat(after.has("aichat_replies_pending")).isTrue();
          assertThat(after.has("aichat_sockets_connected")).isTrue();
          // Vert.x's own meters: HTTP server (by route template), HTTP client (the provider), bus, pools
          // vertx-web labels the matched routes joined by '>': "/chats/>/chats/:sessionId/messages"
          assertThat(after.samples()).anyMatch(s -> s.name().equals("vertx_http_server_requests_total")
              && s.labels().getOrDefault("route", "").endsWith(">/chats/:sessionId/messages")
              && "202".equals(s.labels().get("code")));
          assertThat(after.hasPrefix("vertx_http_client_")).isTrue();
          assertThat(after.hasPrefix("vertx_eventbus_")).isTrue();
          assertThat(after.hasPrefix("vertx_pool_")).isTrue();
          // the store's MongoDB commands, by command and collection (Micrometer's command listener)
          assertThat(delta(b, after, "mongodb_driver_commands_seconds_count", "command", "insert")).isGreaterThanOrEqualTo(1);
          assertThat(delta(b, after, "mongodb_driver_commands_seconds_count", "command", "findAndModify")).isGreaterThanOrEqualTo(1);
          assertThat(after.has("mongodb_driver_commands_seconds_count", "collection", "prompthistories")).isTrue();
          assertThat(after.has("vertx_eventbus_processed_total", "address", "chat.ai.progress.*")
              || after.has("vertx_eventbus_handlers", "address", "chat.ai.progress.*")).isTrue();
          for (PromText.Sample s : after.samples()) {
            for (String value : s.labels().values()) {
              for (String id : ids) {
                assertThat(value).as("label of %s", s.name()).doesNotContain(id);
              }
              assertThat(OBJECT_ID.matcher(value).find()).as("label %s of %s", value, s.name()).isFalse();
            }
          }
          ctx.completeNow();
        })));
  }

  /** Sends {@code n} GET /chats for one user, one after another; answers their status codes. */
  private Future<List<Integer>> flood(String token, int n) {
    List<Integer> statuses = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < n; i++) {
      chain = chain.compose(v -> call("GET", token, "/chats", null).map(r -> {
        statuses.add(r.statusCode());
        return null;
      }));
    }
    return chain.map(v -> statuses);
  }

  private static double delta(PromText before, PromText after, String name, String... labels) {
    return after.sum(name, labels) - before.sum(name, labels);
  }

  @Test
  @DisplayName("metrics.port moves /metrics to a port of its own; the API port no longer serves it")
  void ownPort(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    int port = TestApp.freePort();
    start(vertx, dir, new JsonObject().put("metrics", new JsonObject().put("port", port)))
        .compose(v -> get(port, "/metrics"))
        .compose(r -> {
          ctx.verify(() -> {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(PromText.parse(r.bodyAsString()).has("aichat_replies_total", "outcome", "completed")).isTrue();
          });
          return get(cfg.http().port(), "/metrics");
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(404);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("metrics.enabled=false: /metrics is not served")
  void disabled(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    start(vertx, dir, new JsonObject().put("metrics", new JsonObject().put("enabled", false)))
        .compose(v -> get(cfg.http().port(), "/metrics"))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.statusCode()).isEqualTo(404);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("API on 0.0.0.0 (issue 24, finding 4): /metrics is 404 on the API port; with metrics.token it needs that bearer token")
  void notOnAPublicApiPortWithoutAToken(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String token = "metrics-token-0123456789";
    JsonObject publicApi = new JsonObject().put("http", new JsonObject().put("host", "0.0.0.0"));
    start(vertx, dir, publicApi)
        .compose(v -> get(cfg.http().port(), "/metrics"))
        .compose(hidden -> {
          ctx.verify(() -> assertThat(hidden.statusCode()).isEqualTo(404));
          return node.close().compose(x -> fake.close());
        })
        .compose(v -> start(vertx, dir, publicApi.copy().put("metrics", new JsonObject().put("token", token))))
        .compose(v -> Future.all(get(cfg.http().port(), "/metrics"),
            http.get(cfg.http().port(), "127.0.0.1", "/metrics").bearerTokenAuthentication(token + "x").send(),
            http.get(cfg.http().port(), "127.0.0.1", "/metrics").bearerTokenAuthentication(token).send()))
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          HttpResponse<Buffer> none = r.resultAt(0);
          assertThat(none.statusCode()).isEqualTo(401);
          assertThat(none.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("UNAUTHENTICATED");
          assertThat(((HttpResponse<Buffer>) r.resultAt(1)).statusCode()).isEqualTo(401);
          HttpResponse<Buffer> ok = r.resultAt(2);
          assertThat(ok.statusCode()).isEqualTo(200);
          assertThat(ok.bodyAsString()).contains("aichat_tokens_total");
          ctx.completeNow();
        })));
  }
}
