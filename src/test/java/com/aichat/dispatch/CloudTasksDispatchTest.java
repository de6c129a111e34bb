package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.AppConfig;
import com.aichat.testing.FakeCloudTasksServer;
import com.aichat.testing.FakeCloudTasksServer.FakeTask;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestOidcIssuer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The real google-cloud-tasks client (HTTP/JSON transport) against the local Cloud Tasks fake. */
@ExtendWith(VertxExtension.class)
class CloudTasksDispatchTest {

  static final String SA = "chat-tasks@demo-project.iam.gserviceaccount.com";

  @TempDir Path dataDir;

  FakeCloudTasksServer fake;
  AppConfig cfg;
  CloudTasksDispatch dispatch;

  @BeforeEach
  void start(Vertx vertx, VertxTestContext ctx) {
    fake = new FakeCloudTasksServer(vertx, new TestOidcIssuer());
    fake.pushEnabled(false);
    fake.start()
        .compose(f -> {
          cfg = AppConfig.from(TestApp.config(dataDir, new JsonObject()
              .put("dispatch", new JsonObject().put("mode", "cloud-tasks").put("pending_grace_ms", 0))
              .put("cloud_tasks", new JsonObject()
                  .put("project", "demo-project")
                  .put("location", "europe-west1")
                  .put("queue", "chat-ai")
                  .put("service_account_email", SA)
                  .put("endpoint", f.endpoint())
                  .put("dispatch_deadline_seconds", 120))));
          return CloudTasksDispatch.create(vertx, cfg.cloudTasks(), cfg.dispatch());
        })
        .onSuccess(d -> dispatch = d)
        .onComplete(ctx.succeedingThenComplete());
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    Future<Void> closing = dispatch == null ? Future.succeededFuture() : dispatch.close();
    closing.compose(v -> fake.close()).onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A dispatch creates an HTTP task: POST to the worker URL, {messageId} body, OIDC token, deadline, derived name")
  void createsTheHttpTask(VertxTestContext ctx) {
    String messageId = new ObjectId().toHexString();
    dispatch.dispatch(messageId).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      List<FakeTask> tasks = fake.tasks();
      assertThat(tasks).hasSize(1);
      FakeTask t = tasks.get(0);
      assertThat(t.name()).matches(
          "projects/demo-project/locations/europe-west1/queues/chat-ai/tasks/[0-9a-f]{8}-" + messageId + "-[0-9]+");
      assertThat(t.url()).isEqualTo(cfg.node().publicBaseUrl() + "/internal/chat-ai-worker");
      assertThat(t.httpMethod()).isEqualTo("POST");
      assertThat(t.headers()).containsEntry("Content-Type", "application/json");
      assertThat(new JsonObject(t.bodyText())).isEqualTo(new JsonObject().put("messageId", messageId));
      assertThat(t.oidcEmail()).isEqualTo(SA);
      assertThat(t.oidcAudience()).isEqualTo(cfg.node().publicBaseUrl() + "/internal/chat-ai-worker");
      assertThat(t.dispatchDeadline()).isEqualTo("120s");
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("Dispatching the same reply twice in one round makes one task: ALREADY_EXISTS counts as success")
  void duplicateDispatchIsDeduplicated(Vertx vertx, VertxTestContext ctx) {
    String messageId = new ObjectId().toHexString();
    // Both calls must fall in the same one-second round, so start right after a round boundary.
    long wait = 1_000 - System.currentTimeMillis() % 1_000 + 20;
    vertx.timer(wait)
        .compose(v -> dispatch.dispatch(messageId))
        .compose(v -> dispatch.dispatch(messageId))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          assertThat(fake.createRequests()).hasSize(2);
          assertThat(fake.tasks()).hasSize(1);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A reply dispatched again in a later round gets a fresh task, so a lost task never strands it")
  void laterRoundGetsAFreshTask(Vertx vertx, VertxTestContext ctx) {
    String messageId = new ObjectId().toHexString();
    dispatch.dispatch(messageId)
        .compose(v -> vertx.timer(1_100))
        .compose(v -> dispatch.dispatch(messageId))
        .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
          List<FakeTask> tasks = fake.tasks();
          assertThat(tasks).hasSize(2);
          assertThat(tasks.get(0).name()).isNotEqualTo(tasks.get(1).name());
          assertThat(tasks).allSatisfy(t -> assertThat(t.name()).contains("-" + messageId + "-"));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A CreateTask answered 503 UNAVAILABLE is retried with backoff until the task exists")
  void unavailableIsRetried(VertxTestContext ctx) {
    fake.failNextCreates(2);
    String messageId = new ObjectId().toHexString();
    dispatch.dispatch(messageId).onComplete(ctx.succeeding(v -> ctx.verify(() -> {
      assertThat(fake.createRequests()).hasSize(3);
      assertThat(fake.tasks()).singleElement().satisfies(t -> assertThat(t.bodyText()).contains(messageId));
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("When every CreateTask attempt fails, the dispatch fails (the sweep re-dispatches later)")
  void persistentOutageFailsTheDispatch(VertxTestContext ctx) {
    fake.failNextCreates(100);
    dispatch.dispatch(new ObjectId().toHexString()).onComplete(ctx.failing(err -> ctx.verify(() -> {
      assertThat(fake.createRequests()).hasSize(CloudTasksDispatch.CREATE_ATTEMPTS);
      assertThat(fake.tasks()).isEmpty();
      ctx.completeNow();
    })));
  }
}
