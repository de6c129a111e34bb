package com.aichat.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.Main;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.FakeAnthropicServer.Status;
import com.aichat.ai.GenerationHarness;
import com.aichat.AppConfig;
import com.aichat.ops.Drain;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.codec.BodyCodec;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-flight gauges ({@code aichat_replies_pending}, {@code aichat_streams_active},
 * {@code aichat_sockets_connected}) read 0 once every reply is final and the queue is empty, and the
 * counters add up to what happened: completed, failed (at once and after its attempts ran out),
 * retried, cancelled (running and while holding a slot others wait for), queued, refused as overloaded,
 * handed back by a drain and completed after a restart on the same durable store.
 *
 * <p>One worker instance with 2 slots and a dispatcher queue of 3, so replies really wait in the queue
 * (and the pending gauge has something to count), and one API instance, so the overload guard that
 * refuses up front sees every receipt.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("In-flight gauges return to 0 and the reply counters add up")
class InFlightGaugesTest {

  private static final List<String> FINAL = List.of("completed", "failed", "cancelled");
  private static final long SETTLE_MS = 10_000;

  private FakeAnthropicServer fake;
  private WebClient http;
  private Vertx nodeA;
  private Vertx nodeB;

  @AfterEach
  void stop(VertxTestContext ctx) throws Throwable {
    Future<Void> a = nodeA == null ? Future.succeededFuture() : nodeA.close().otherwiseEmpty();
    a.compose(v -> nodeB == null ? Future.succeededFuture() : nodeB.close())
        .compose(v -> fake == null ? Future.succeededFuture() : fake.close())
        .onComplete(ctx.succeedingThenComplete());
    ctx.awaitCompletion(30, TimeUnit.SECONDS);
  }

  private AppConfig config(Path dir) {
    JsonObject overrides = GenerationHarness.claudeOverrides(fake);
    overrides.getJsonObject("worker").put("max_concurrent", 2).put("max_per_user", 2);
    overrides.getJsonObject("dispatch").put("max_queued", 3).put("max_queued_per_user", 3);
    overrides
        .put("verticles", new JsonObject().put("api", 1).put("worker", 1).put("dispatcher", 1))
        .put("mongo", new JsonObject().put("embedded_backend", "h2"))
        .put("titles", new JsonObject().put("enabled", false))
        .put("rate_limit", new JsonObject().put("requests_per_minute", 1_000_000))
        .put("shutdown", new JsonObject().put("grace_ms", 200).put("socket_notice_ms", 0));
    return AppConfig.from(TestApp.config(dir, overrides));
  }

  private Future<HttpResponse<JsonObject>> call(AppConfig cfg, HttpMethod method, String token, String path,
      JsonObject body) {
    var req = http.request(method, cfg.http().port(), "127.0.0.1", path).bearerTokenAuthentication(token)
        .as(BodyCodec.jsonObject());
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  /** A user with a session of its own (one question per session, so no script key is quoted twice). */
  private record Asker(String token, String sessionId) {}

  private Future<Asker> asker(Vertx vertx, AppConfig cfg) {
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    return call(cfg, HttpMethod.POST, token, "/chats", new JsonObject().put("title", "gauges"))
        .map(r -> new Asker(token, r.body().getString("id")));
  }

  /** Sends {@code text} as a new user; answers the whole 202 body (reply and, when queued, queue). */
  private Future<JsonObject> send(Vertx vertx, AppConfig cfg, String text) {
    return asker(vertx, cfg).compose(a -> call(cfg, HttpMethod.POST, a.token(), "/chats/" + a.sessionId() + "/messages",
            new JsonObject().put("content", text))
        .map(r -> {
          if (r.statusCode() != 202) {
            throw new IllegalStateException("send answered " + r.statusCode() + " " + r.bodyAsString());
          }
          return r.body().put("token", a.token());
        }));
  }

  /** Sends {@code text} as a new user; answers the status code only. */
  private Future<Integer> sendStatus(Vertx vertx, AppConfig cfg, String text) {
    return asker(vertx, cfg).compose(a -> call(cfg, HttpMethod.POST, a.token(), "/chats/" + a.sessionId() + "/messages",
        new JsonObject().put("content", text)).map(HttpResponse::statusCode));
  }

  private static String path(JsonObject sent) {
    JsonObject reply = sent.getJsonObject("reply");
    return "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id");
  }

  /** Polls the reply of {@code sent} every 50 ms until its status is one of {@code statuses}. */
  private Future<JsonObject> await(Vertx vertx, AppConfig cfg, JsonObject sent, List<String> statuses) {
    Promise<JsonObject> p = Promise.promise();
    vertx.setPeriodic(50, t -> call(cfg, HttpMethod.GET, sent.getString("token"), path(sent), null).onSuccess(r -> {
      if (r.statusCode() == 200 && statuses.contains(r.body().getString("status"))) {
        vertx.cancelTimer(t);
        p.tryComplete(r.body());
      }
    }));
    return p.future();
  }

  private Future<Void> cancel(AppConfig cfg, JsonObject sent) {
    return call(cfg, HttpMethod.POST, sent.getString("token"), path(sent) + "/cancel", null).mapEmpty();
  }

  private Future<List<JsonObject>> awaitAll(Vertx vertx, AppConfig cfg, List<JsonObject> sent) {
    return Future.all(sent.stream().map(s -> await(vertx, cfg, s, FINAL)).toList()).map(all -> all.list());
  }

  private static PromText scrape(Metrics m) {
    return PromText.parse(m.scrape());
  }

  /**
   * A reply reads final in the store a moment before its worker has ended the job (the gauges and
   * counters move when the store's answer reaches the worker): the scrape once the gauges read 0 and
   * {@code completed} replies were counted, or after {@value #SETTLE_MS} ms, whichever comes first, for
   * the assertions to judge.
   */
  private static Future<PromText> settled(Vertx vertx, Metrics m, double completed) {
    long deadline = System.currentTimeMillis() + SETTLE_MS;
    return TestApp.until(vertx, () -> {
      PromText p = scrape(m);
      return System.currentTimeMillis() > deadline
          || (p.sum("aichat_replies_pending") == 0 && p.sum("aichat_streams_active") == 0
              && replies(p, "completed") >= completed);
    }).map(v -> scrape(m));
  }

  private static void assertIdle(PromText p, String when) {
    assertThat(p.sum("aichat_replies_pending")).as("aichat_replies_pending %s", when).isZero();
    assertThat(p.sum("aichat_streams_active")).as("aichat_streams_active %s", when).isZero();
    assertThat(p.sum("aichat_sockets_connected")).as("aichat_sockets_connected %s", when).isZero();
  }

  private static double replies(PromText p, String outcome) {
    return p.sum("aichat_replies_total", "outcome", outcome);
  }

  private static long count(List<JsonObject> replies, String status) {
    return replies.stream().filter(r -> status.equals(r.getString("status"))).count();
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("sends, failures, retries, cancels, overload refusals, a drain and a restart: gauges end at 0, counters match")
  void gaugesReturnToZero(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    fake = new FakeAnthropicServer(vertx);
    http = WebClient.create(vertx);
    AppConfig[] cfg = new AppConfig[2];
    Metrics[] metricsA = new Metrics[1];
    List<JsonObject> mixed = new ArrayList<>();
    List<JsonObject> holds = new ArrayList<>();
    List<JsonObject> queued = new ArrayList<>();
    List<Integer> refusedStatuses = new ArrayList<>();
    List<JsonObject> handedBack = new ArrayList<>();
    double[] queuedGauge = new double[2];
    fake.start()
        .compose(f -> {
          fake.script("ok-q", FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 2));
          fake.script("fail-q", new Status(400, "invalid_request_error", null));
          fake.script("retry-q", new Status(529, "overloaded_error", null),
              FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 2));
          fake.script("exhaust-q", new Status(529, "overloaded_error", null),
              new Status(529, "overloaded_error", null), new Status(529, "overloaded_error", null));
          // long enough to be cancelled or drained mid-stream; a second request (after the drain) is short
          for (String key : List.of("cancel-q", "hold-1", "hold-2", "drain-1", "drain-2")) {
            fake.script(key, FakeAnthropicServer.stream(FakeAnthropicServer.words(6000), 5),
                FakeAnthropicServer.stream(FakeAnthropicServer.words(10), 2));
          }
          cfg[0] = config(dir);
          return Main.newVertx(cfg[0]);
        })
        .compose(v -> {
          nodeA = v;
          metricsA[0] = Metrics.of(nodeA);
          return Main.start(nodeA, cfg[0]);
        })
        // 1. mixed outcomes, more at once than the 2 slots, so some wait in the queue
        .compose(ids -> {
          Future<Void> chain = Future.succeededFuture();
          for (String q : List.of("ok-q 1", "fail-q", "retry-q", "exhaust-q", "ok-q 2", "cancel-q")) {
            chain = chain.compose(x -> send(vertx, cfg[0], q).map(mixed::add).mapEmpty());
          }
          return chain;
        })
        .compose(v -> await(vertx, cfg[0], mixed.get(5), List.of("processing")))
        .compose(v -> cancel(cfg[0], mixed.get(5)))
        .compose(v -> awaitAll(vertx, cfg[0], mixed))
        .compose(finals -> settled(vertx, metricsA[0], 3).map(p -> {
          ctx.verify(() -> {
            assertThat(finals).extracting(r -> r.getString("status"))
                .containsExactly("completed", "failed", "completed", "failed", "completed", "cancelled");
            assertIdle(p, "after the mixed replies");
            assertThat(replies(p, "completed")).isEqualTo(3);
            assertThat(replies(p, "failed")).isEqualTo(2);
            assertThat(replies(p, "cancelled")).isEqualTo(1);
            assertThat(p.sum("aichat_reply_retries_total")).isEqualTo(3); // retry-q once, exhaust-q twice
            assertThat(p.sum("aichat_provider_errors_total")).isEqualTo(5); // one 400, four 529
          });
          return p;
        }))
        // 2. both slots held, the queue filled to its limit, then two sends refused up front
        .compose(p -> send(vertx, cfg[0], "hold-1"))
        .compose(s -> {
          holds.add(s);
          return send(vertx, cfg[0], "hold-2");
        })
        .compose(s -> {
          holds.add(s);
          return Future.all(await(vertx, cfg[0], holds.get(0), List.of("processing")),
              await(vertx, cfg[0], holds.get(1), List.of("processing")));
        })
        .compose(v -> {
          Future<Void> chain = Future.succeededFuture();
          for (int i = 0; i < 3; i++) {
            chain = chain.compose(x -> send(vertx, cfg[0], "ok-q queued").map(queued::add).mapEmpty());
          }
          return chain;
        })
        .compose(v -> {
          queuedGauge[0] = scrape(metricsA[0]).sum("aichat_replies_pending");
          return sendStatus(vertx, cfg[0], "ok-q refused").map(refusedStatuses::add);
        })
        .compose(v -> sendStatus(vertx, cfg[0], "ok-q refused").map(refusedStatuses::add))
        .compose(v -> Future.all(holds.stream().map(h -> cancel(cfg[0], h)).toList()))
        .compose(v -> awaitAll(vertx, cfg[0], holds))
        .compose(holdFinals -> awaitAll(vertx, cfg[0], queued).map(queuedFinals -> List.of(holdFinals, queuedFinals)))
        .compose(finals -> settled(vertx, metricsA[0], 6).map(p -> {
          ctx.verify(() -> {
            assertThat(queued).allSatisfy(s -> assertThat(s.getJsonObject("queue")).as("queue place").isNotNull());
            assertThat(queuedGauge[0]).as("aichat_replies_pending with 3 replies queued").isEqualTo(3);
            assertThat(refusedStatuses).containsExactly(503, 503);
            assertThat(count(finals.get(0), "cancelled")).isEqualTo(2);
            assertThat(count(finals.get(1), "completed")).isEqualTo(3);
            assertIdle(p, "after the overload");
            assertThat(replies(p, "completed")).isEqualTo(6);
            assertThat(replies(p, "failed")).isEqualTo(2);
            assertThat(replies(p, "cancelled")).isEqualTo(3);
            assertThat(p.sum("aichat_requests_refused_total", "reason", "overloaded")).isEqualTo(2);
          });
          return p;
        }))
        // 3. a drain while two replies stream and one waits in the queue
        .compose(p -> send(vertx, cfg[0], "drain-1"))
        .compose(s -> {
          handedBack.add(s);
          return send(vertx, cfg[0], "drain-2");
        })
        .compose(s -> {
          handedBack.add(s);
          return Future.all(await(vertx, cfg[0], handedBack.get(0), List.of("processing")),
              await(vertx, cfg[0], handedBack.get(1), List.of("processing")));
        })
        .compose(v -> send(vertx, cfg[0], "ok-q waits through the drain"))
        .compose(s -> {
          handedBack.add(s);
          queuedGauge[1] = scrape(metricsA[0]).sum("aichat_replies_pending");
          return Drain.run(nodeA, cfg[0].shutdown());
        })
        .compose(v -> {
          nodeA = null;
          // closed: the drain waited for the workers to hand their replies back, nothing can still move
          PromText p = scrape(metricsA[0]);
          ctx.verify(() -> {
            assertThat(queuedGauge[1]).as("aichat_replies_pending with 1 reply queued before the drain").isEqualTo(1);
            assertIdle(p, "after the drain");
            // nothing handed back counts as final
            assertThat(replies(p, "completed")).isEqualTo(6);
            assertThat(replies(p, "failed")).isEqualTo(2);
            assertThat(replies(p, "cancelled")).isEqualTo(3);
          });
          // 4. a restart on the same store completes what the drain handed back
          cfg[1] = config(dir);
          return Main.newVertx(cfg[1]);
        })
        .compose(v -> {
          nodeB = v;
          return Main.start(nodeB, cfg[1]);
        })
        .compose(ids -> awaitAll(vertx, cfg[1], handedBack))
        .compose(finals -> settled(vertx, Metrics.of(nodeB), 3).map(p -> List.of(finals, p)))
        .onComplete(ctx.succeeding(both -> ctx.verify(() -> {
          @SuppressWarnings("unchecked")
          List<JsonObject> finals = (List<JsonObject>) both.get(0);
          PromText p = (PromText) both.get(1);
          assertThat(finals).extracting(r -> r.getString("status")).containsOnly("completed");
          assertIdle(p, "after the restart");
          assertThat(replies(p, "completed")).isEqualTo(3);
          assertThat(replies(p, "failed")).isZero();
          assertThat(replies(p, "cancelled")).isZero();
          ctx.completeNow();
        })));
  }
}
