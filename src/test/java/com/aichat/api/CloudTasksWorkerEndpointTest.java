package com.aichat.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.dispatch.CloudTasksDispatch;
import com.aichat.testing.FakeCloudTasksServer;
import com.aichat.testing.FakeCloudTasksServer.FakeTask;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestOidcIssuer;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole {@code cloud-tasks} path on real components: the REST API stores a message, the dispatcher
 * creates the task with the real google-cloud-tasks client against {@link FakeCloudTasksServer}, the
 * fake pushes it to {@code POST /internal/chat-ai-worker} with an OIDC token from {@link TestOidcIssuer},
 * and the AI worker generates the reply (offline model, or Claude's wire format from a local fake).
 */
@ExtendWith(VertxExtension.class)
class CloudTasksWorkerEndpointTest {

  static final String SA = "chat-tasks@demo-project.iam.gserviceaccount.com";
  static final String TASKS = "projects/demo-project/locations/europe-west1/queues/chat-ai/tasks/";

  @TempDir Path dataDir;

  final TestOidcIssuer issuer = new TestOidcIssuer();
  FakeCloudTasksServer fake;
  TestApp app;
  WebClient http;
  String userId;
  String token;

  @BeforeEach
  void startFake(Vertx vertx, VertxTestContext ctx) {
    http = WebClient.create(vertx);
    userId = TestTokens.newUserId();
    token = TestTokens.token(vertx, userId);
    fake = new FakeCloudTasksServer(vertx, issuer);
    fake.start().onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stopFake(VertxTestContext ctx) {
    fake.close().onComplete(ctx.succeedingThenComplete());
  }

  private Future<TestApp> startApp(Vertx vertx, JsonObject extra) {
    JsonObject overrides = new JsonObject()
        .put("dispatch", new JsonObject().put("mode", "cloud-tasks"))
        .put("worker", new JsonObject().put("backoff_initial_ms", 50).put("backoff_max_ms", 200))
        .put("cloud_tasks", new JsonObject()
            .put("project", "demo-project")
            .put("location", "europe-west1")
            .put("queue", "chat-ai")
            .put("service_account_email", SA)
            .put("endpoint", fake.endpoint())
            .put("oidc_jwks_url", fake.jwksUrl())
            .put("dispatch_deadline_seconds", 30));
    overrides.mergeIn(extra, true);
    return TestApp.start(vertx, dataDir, overrides).onSuccess(a -> app = a);
  }

  // ---- tests ----------------------------------------------------------------------------------

  @Test
  @DisplayName("A message creates the task (URL, body, OIDC, deadline, name); the push runs and the reply completes")
  void endToEnd(Vertx vertx, VertxTestContext ctx) {
    startApp(vertx, new JsonObject())
        .compose(a -> sendMessage("Summarise our Q3 numbers"))
        .compose(reply -> awaitReply(vertx, reply, m -> "completed".equals(m.getString("status")))
            .compose(done -> awaitDelivery(vertx).map(done))
            .map(done -> {
              ctx.verify(() -> {
                String workerUrl = app.config().node().publicBaseUrl() + "/internal/chat-ai-worker";
                FakeTask t = fake.tasks().get(0);
                assertThat(fake.tasks()).hasSize(1);
                assertThat(t.name()).matches(TASKS + "[0-9a-f]{8}-" + reply.getString("id") + "-[0-9]+");
                assertThat(t.url()).isEqualTo(workerUrl);
                assertThat(t.httpMethod()).isEqualTo("POST");
                assertThat(t.headers()).containsEntry("Content-Type", "application/json");
                assertThat(new JsonObject(t.bodyText()).getString("messageId")).isEqualTo(reply.getString("id"));
                assertThat(t.oidcEmail()).isEqualTo(SA);
                assertThat(t.oidcAudience()).isEqualTo(workerUrl);
                assertThat(t.dispatchDeadline()).isEqualTo("30s");
                assertThat(t.pushStatuses()).containsExactly(200);
                assertThat(done.getString("messageType")).isEqualTo("ai_report");
                assertThat(done.getString("content")).isNotBlank();
                assertThat(done.getInteger("attempts")).isEqualTo(1);
              });
              return done;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Two concurrent deliveries of one task and a late third give one reply, generated once")
  void duplicatePushGivesOneReply(Vertx vertx, VertxTestContext ctx) {
    fake.pushEnabled(false);
    startApp(vertx, new JsonObject())
        .compose(a -> sendMessage("Hello twice"))
        .compose(reply -> awaitTask(vertx)
            .compose(task -> Future.all(fake.pushAgain(task.name()), fake.pushAgain(task.name()))
                .compose(both -> awaitReply(vertx, reply, m -> "completed".equals(m.getString("status"))))
                .compose(done -> fake.pushAgain(task.name()).map(late -> {
                  ctx.verify(() -> {
                    assertThat(task.pushStatuses()).hasSize(3);
                    // one delivery did the work; the concurrent one was told to retry or saw it done
                    assertThat(task.pushStatuses().subList(0, 2)).contains(200);
                    assertThat(late).isEqualTo(200);
                    assertThat(done.getInteger("attempts")).isEqualTo(1);
                  });
                  return done;
                })))
            .compose(done -> listMessages(reply.getString("sessionId")).map(items -> {
              ctx.verify(() -> {
                assertThat(items).hasSize(2);
                assertThat(items.getJsonObject(1).getString("content")).isEqualTo(done.getString("content"));
              });
              return items;
            })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Forged or unfit tokens are refused with a bare 401/403 and no work is done")
  void forgedTokensAreRejected(Vertx vertx, VertxTestContext ctx) {
    fake.pushEnabled(false);
    long now = Instant.now().getEpochSecond();
    Map<String, Function<String, String>> forgeries = new LinkedHashMap<>();
    Map<String, Integer> expected = new LinkedHashMap<>();
    forgeries.put("wrong audience", aud -> issuer.sign(TestOidcIssuer.claims(SA, "https://other.example.com/x")));
    expected.put("wrong audience", 403);
    forgeries.put("wrong issuer", aud -> issuer.sign(TestOidcIssuer.claims(SA, aud).put("iss", "https://evil.example.com")));
    expected.put("wrong issuer", 401);
    forgeries.put("wrong email", aud -> issuer.token("intruder@demo-project.iam.gserviceaccount.com", aud));
    expected.put("wrong email", 403);
    forgeries.put("email not verified", aud -> issuer.sign(TestOidcIssuer.claims(SA, aud).put("email_verified", false)));
    expected.put("email not verified", 403);
    forgeries.put("expired", aud -> issuer.sign(TestOidcIssuer.claims(SA, aud).put("iat", now - 7200).put("exp", now - 3600)));
    expected.put("expired", 401);
    forgeries.put("unsigned alg none", aud -> issuer.unsigned(TestOidcIssuer.claims(SA, aud)));
    expected.put("unsigned alg none", 401);
    forgeries.put("unknown key", aud -> issuer.signWithUnknownKey(TestOidcIssuer.claims(SA, aud)));
    expected.put("unknown key", 401);
    forgeries.put("no token", aud -> null);
    expected.put("no token", 401);

    Checkpoint refused = ctx.checkpoint(forgeries.size());
    startApp(vertx, new JsonObject())
        .compose(a -> sendMessage("Do not run me"))
        .compose(reply -> awaitTask(vertx).compose(task -> {
          String url = task.url();
          Future<Void> chain = Future.succeededFuture();
          for (Map.Entry<String, Function<String, String>> f : forgeries.entrySet()) {
            String forged = f.getValue().apply(task.oidcAudience());
            chain = chain.compose(v -> push(url, task, forged).map(resp -> {
              ctx.verify(() -> {
                assertThat(resp.statusCode()).as(f.getKey()).isEqualTo(expected.get(f.getKey()));
                JsonObject error = resp.bodyAsJsonObject().getJsonObject("error");
                assertThat(error.fieldNames()).as(f.getKey()).containsExactlyInAnyOrder("code", "message");
                assertThat(error.getString("message")).as(f.getKey()).isIn("authentication required", "forbidden");
              });
              refused.flag();
              return null;
            }));
          }
          // Give any (wrongly) started job time to show; the reply must still be untouched.
          return chain.compose(v -> vertx.timer(300)).compose(v -> getMessage(reply));
        }))
        .onComplete(ctx.succeeding(m -> ctx.verify(() -> {
          assertThat(m.getString("status")).isEqualTo("pending");
          assertThat(m.getInteger("attempts", 0)).isZero();
        })));
  }

  @Test
  @DisplayName("A retryable provider failure answers 503; Cloud Tasks' retry then completes the reply")
  void retryableFailureIsRetriedByCloudTasks(Vertx vertx, VertxTestContext ctx) {
    FakeAnthropicServer claude = new FakeAnthropicServer(vertx)
        .script("Try again please",
            new FakeAnthropicServer.Status(529, "overloaded_error", null),
            FakeAnthropicServer.stream(List.of("Hello from ", "the fake Claude."), 5));
    claude.start()
        .compose(c -> startApp(vertx, new JsonObject()
            .put("ai", new JsonObject().put("provider", "claude"))
            .put("claude", new JsonObject().put("api_key", "test-key").put("base_url", c.baseUrl()))))
        .compose(a -> sendMessage("Try again please"))
        .compose(reply -> awaitReply(vertx, reply, m -> "completed".equals(m.getString("status"))))
        .compose(done -> awaitDelivery(vertx).map(done))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          FakeTask t = fake.tasks().get(0);
          assertThat(t.pushStatuses().get(0)).isEqualTo(503);
          assertThat(t.pushStatuses()).last().isEqualTo(200);
          assertThat(done.getString("content")).isEqualTo("Hello from the fake Claude.");
          assertThat(done.getInteger("attempts")).isEqualTo(2);
          assertThat(claude.requestsFor("Try again please")).hasSize(2);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("CreateTask failing longer than the dispatcher's own retries is recovered by the sweep")
  void createTaskOutageIsRecoveredBySweep(Vertx vertx, VertxTestContext ctx) {
    startApp(vertx, new JsonObject())
        .compose(a -> {
          // Longer than the in-call retries (250 + 500 + 1000 ms), shorter than the test's patience.
          fake.unavailableFor(3_000);
          return sendMessage("Survive the outage");
        })
        .compose(reply -> awaitReply(vertx, reply, m -> "completed".equals(m.getString("status"))))
        .compose(done -> awaitDelivery(vertx).map(done))
        .onComplete(ctx.succeeding(done -> ctx.verify(() -> {
          assertThat(fake.createRequests().size()).isGreaterThan(CloudTasksDispatch.CREATE_ATTEMPTS);
          assertThat(fake.tasks()).isNotEmpty();
          assertThat(fake.tasks()).anySatisfy(t -> assertThat(t.delivered()).isTrue());
          assertThat(done.getInteger("attempts")).isEqualTo(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("In local mode the endpoint is 404 unless cloud_tasks.worker_endpoint_enabled turns it on")
  void localModeEndpointIsOptIn(Vertx vertx, VertxTestContext ctx) {
    String body = new JsonObject().put("messageId", "0123456789abcdef01234567").encode();
    TestApp.start(vertx, dataDir)
        .compose(local -> http.post(local.httpPort(), "127.0.0.1", "/internal/chat-ai-worker")
            .sendBuffer(Buffer.buffer(body))
            .map(resp -> {
              ctx.verify(() -> assertThat(resp.statusCode()).isEqualTo(404));
              return local;
            }))
        .onComplete(ctx.succeeding(local -> ctx.completeNow()));
  }

  @Test
  @DisplayName("In local mode with the endpoint turned on, a valid task push runs the reply")
  void localModeEndpointWhenEnabled(Vertx vertx, VertxTestContext ctx) {
    TestApp.start(vertx, dataDir, new JsonObject()
            .put("cloud_tasks", new JsonObject()
                .put("worker_endpoint_enabled", true)
                .put("service_account_email", SA)
                .put("oidc_jwks_url", fake.jwksUrl())))
        .onSuccess(a -> app = a)
        .compose(a -> http.post(a.httpPort(), "127.0.0.1", "/internal/chat-ai-worker")
            .sendBuffer(Buffer.buffer(new JsonObject().put("messageId", "0123456789abcdef01234567").encode())))
        .compose(unauth -> {
          ctx.verify(() -> assertThat(unauth.statusCode()).isEqualTo(401));
          String aud = app.config().cloudTasks().audience();
          return http.post(app.httpPort(), "127.0.0.1", "/internal/chat-ai-worker")
              .putHeader("Authorization", "Bearer " + issuer.token(SA, aud))
              .sendBuffer(Buffer.buffer(new JsonObject().put("messageId", "0123456789abcdef01234567").encode()));
        })
        .onComplete(ctx.succeeding(resp -> ctx.verify(() -> {
          // A reply that does not exist is nothing to do: the task is acknowledged.
          assertThat(resp.statusCode()).isEqualTo(200);
          assertThat(resp.bodyAsJsonObject().getString("outcome")).isEqualTo("not_claimed");
          ctx.completeNow();
        })));
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Creates a session and sends {@code content}; the reply placeholder's JSON. */
  private Future<JsonObject> sendMessage(String content) {
    return http.post(app.httpPort(), "127.0.0.1", "/chats")
        .bearerTokenAuthentication(token)
        .sendJsonObject(new JsonObject().put("title", "Cloud Tasks"))
        .map(expect(201))
        .compose(session -> http.post(app.httpPort(), "127.0.0.1", "/chats/" + session.getString("id") + "/messages")
            .bearerTokenAuthentication(token)
            .sendJsonObject(new JsonObject().put("content", content))
            .map(expect(202)))
        .map(pair -> pair.getJsonObject("reply"));
  }

  private Future<JsonObject> getMessage(JsonObject reply) {
    return http.get(app.httpPort(), "127.0.0.1",
            "/chats/" + reply.getString("sessionId") + "/messages/" + reply.getString("id"))
        .bearerTokenAuthentication(token)
        .send()
        .map(expect(200));
  }

  private Future<JsonArray> listMessages(String sessionId) {
    return http.get(app.httpPort(), "127.0.0.1", "/chats/" + sessionId + "/messages")
        .bearerTokenAuthentication(token)
        .send()
        .map(expect(200))
        .map(page -> page.getJsonArray("items"));
  }

  private Future<JsonObject> awaitReply(Vertx vertx, JsonObject reply, Predicate<JsonObject> done) {
    return poll(vertx, () -> getMessage(reply), done, 15_000);
  }

  private Future<FakeTask> awaitTask(Vertx vertx) {
    return poll(vertx, () -> Future.succeededFuture(fake.tasks()), l -> !l.isEmpty(), 10_000).map(l -> l.get(0));
  }

  /** Waits until the fake has had a 2xx answer to one of its pushes (it records it on the response). */
  private Future<List<FakeTask>> awaitDelivery(Vertx vertx) {
    return poll(vertx, () -> Future.succeededFuture(fake.tasks()),
        l -> l.stream().anyMatch(FakeTask::delivered), 10_000);
  }

  private static <T> Future<T> poll(Vertx vertx, Supplier<Future<T>> probe, Predicate<T> done, long patienceMs) {
    long deadline = System.currentTimeMillis() + patienceMs;
    return probe.get().compose(v -> {
      if (done.test(v)) {
        return Future.succeededFuture(v);
      }
      if (System.currentTimeMillis() > deadline) {
        return Future.failedFuture(new AssertionError("condition not reached in " + patienceMs + " ms; last: " + v));
      }
      return vertx.timer(100).compose(x -> poll(vertx, probe, done, deadline - System.currentTimeMillis()));
    });
  }

  /** A push as Cloud Tasks makes it, but with the given bearer token (null: none). */
  private Future<HttpResponse<Buffer>> push(String url, FakeTask task, String bearer) {
    var req = http.postAbs(url)
        .putHeader("Content-Type", "application/json")
        .putHeader("User-Agent", "Google-Cloud-Tasks")
        .putHeader("X-CloudTasks-QueueName", "chat-ai")
        .putHeader("X-CloudTasks-TaskName", task.name().substring(task.name().lastIndexOf('/') + 1))
        .putHeader("X-CloudTasks-TaskRetryCount", "0")
        .putHeader("X-CloudTasks-TaskExecutionCount", "0");
    if (bearer != null) {
      req.putHeader("Authorization", "Bearer " + bearer);
    }
    return req.sendBuffer(Buffer.buffer(task.body()));
  }

  private static Function<HttpResponse<Buffer>, JsonObject> expect(int status) {
    return resp -> {
      if (resp.statusCode() != status) {
        throw new AssertionError("expected HTTP " + status + " but got " + resp.statusCode() + ": " + resp.bodyAsString());
      }
      return resp.bodyAsJsonObject();
    };
  }
}
