package com.aichat.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.AiWorkerVerticle;
import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobState;
import com.aichat.gateway.NodeScenario;
import com.aichat.jobs.title.TitleJobHandler;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic session titles end to end: the real service over HTTP, Claude played by
 * {@link FakeAnthropicServer}, {@code session.updated} watched by the real socket.io-client, and the
 * session's {@code titleJob} read straight from the embedded database.
 */
@DisplayName("Automatic session titles: a durable title job after the first exchange")
class TitleJobTest {

  private static final String TITLE_MODEL = "claude-title-test";
  private static final String TITLE_PROMPT = "Name this chat in a few words.";

  private Vertx vertx;
  private GenerationHarness h;
  private WebClient http;
  private MongoClient direct;
  private final String user = TestTokens.newUserId();
  private String token;

  private void start(Path dir, JsonObject extra) {
    vertx = Vertx.vertx();
    int mongoPort = TestApp.freePort();
    JsonObject overrides = new JsonObject()
        .put("mongo", new JsonObject().put("embedded_port", mongoPort))
        .put("verticles", new JsonObject().put("worker", 1).put("api", 1))
        .put("claude", new JsonObject().put("first_event_timeout_ms", 10_000).put("idle_timeout_ms", 10_000))
        .put("titles", new JsonObject().put("model", TITLE_MODEL).put("prompt", TITLE_PROMPT).put("max_tokens", 20))
        .put("session_jobs", new JsonObject()
            .put("lease_ms", 1000).put("backoff_initial_ms", 20).put("backoff_max_ms", 50).put("max_attempts", 3));
    overrides.mergeIn(extra, true);
    h = GenerationHarness.start(vertx, dir, overrides).await();
    http = WebClient.create(vertx);
    direct = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
    token = TestTokens.token(vertx, user);
  }

  @AfterEach
  void stop() {
    if (vertx != null) {
      h.close().await();
      vertx.close().await();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private Future<HttpResponse<Buffer>> call(String method, String path, JsonObject body) {
    var req = http.request(io.vertx.core.http.HttpMethod.valueOf(method), h.app().httpPort(), "127.0.0.1", path)
        .bearerTokenAuthentication(token);
    return body == null ? req.send() : req.sendJsonObject(body);
  }

  private JsonObject createSession(JsonObject body) {
    HttpResponse<Buffer> r = call("POST", "/chats", body).await();
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  /** Sends over HTTP and waits until the reply is final. */
  private void exchange(String sessionId, String text) {
    HttpResponse<Buffer> r = call("POST", "/chats/" + sessionId + "/messages", new JsonObject().put("content", text)).await();
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    h.finalReply(r.bodyAsJsonObject().getJsonObject("reply").getString("id")).await();
  }

  private JsonObject session(String sessionId) {
    return call("GET", "/chats/" + sessionId, null).await().bodyAsJsonObject();
  }

  /** The stored {@code titleJob} sub-document, or null. */
  private JsonObject titleJob(String sessionId) {
    JsonObject doc = direct.findOne("chatsessions",
        new JsonObject().put("_id", new JsonObject().put("$oid", sessionId)), null).await();
    return doc == null ? null : doc.getJsonObject(SessionJobKind.TITLE.field());
  }

  private String titleJobStatus(String sessionId) {
    JsonObject job = titleJob(sessionId);
    return job == null ? null : job.getString("status");
  }

  private static void waitUntil(String what, Supplier<Boolean> condition) throws InterruptedException {
    for (int i = 0; i < 1500; i++) {
      if (condition.get()) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  private List<Recorded> titleRequests() {
    return h.fake().requestsFor(TitleJobHandler.INSTRUCTION);
  }

  /** A socket of the user that reports the session's session.updated events once one carries {@code title}. */
  private NodeScenario watch(String sessionId, String title, Runnable onReady) {
    JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + h.app().gatewayPort())
        .put("token", token).put("sessionId", sessionId).put("title", title).put("settleMs", 1500);
    // the test's actions block (await), so they run on a thread of their own, not on an event loop
    return NodeScenario.start(vertx, "sessionUpdates", args, ready -> {
      Thread actions = new Thread(() -> {
        try {
          onReady.run();
        } catch (RuntimeException | AssertionError e) {
          org.slf4j.LoggerFactory.getLogger(TitleJobTest.class).error("test action failed", e);
        }
      }, "title-test-actions");
      actions.setDaemon(true);
      actions.start();
    });
  }

  private static List<JsonObject> updatesWithTitle(JsonObject result, String title) {
    return result.getJsonArray("updates").stream().map(JsonObject.class::cast)
        .filter(u -> title.equals(u.getString("title"))).toList();
  }

  // ---- tests ------------------------------------------------------------------------------------

  @Test
  @DisplayName("after the first exchange the title comes from a short request with the configured model and prompt, is stored, and reaches the user's socket as session.updated")
  void titleFromFirstExchange(@TempDir Path dir) {
    start(dir, new JsonObject());
    h.fake().script(TitleJobHandler.INSTRUCTION, FakeAnthropicServer.stream(List.of("\"Weekend", " in Paris\""), 5));
    JsonObject created = createSession(null);
    assertThat(created.getString("title")).isEqualTo(ChatStore.DEFAULT_TITLE);
    assertThat(created.getString("titleSource")).isEqualTo(ChatSession.TITLE_DEFAULT);
    String sid = created.getString("id");

    JsonObject result = watch(sid, "Weekend in Paris", () -> exchange(sid, "Plan my weekend in Paris")).result().await();

    assertThat(titleRequests()).singleElement().satisfies(r -> {
      JsonObject body = r.body();
      assertThat(body.getString("model")).isEqualTo(TITLE_MODEL);
      assertThat(body.getInteger("max_tokens")).isEqualTo(20);
      assertThat(body.getString("system")).isEqualTo(TITLE_PROMPT);
      JsonArray messages = body.getJsonArray("messages");
      assertThat(messages).hasSize(3);
      assertThat(Recorded.textOf(messages.getJsonObject(0))).isEqualTo("Plan my weekend in Paris");
      assertThat(Recorded.textOf(messages.getJsonObject(1))).isEqualTo("Hello from the fake Claude.");
      assertThat(messages.getJsonObject(1).getString("role")).isEqualTo("assistant");
    });
    assertThat(h.fake().requests()).hasSize(2);
    JsonObject stored = session(sid);
    assertThat(stored.getString("title")).isEqualTo("Weekend in Paris");
    assertThat(stored.getString("titleSource")).isEqualTo(ChatSession.TITLE_AUTO);
    assertThat(updatesWithTitle(result, "Weekend in Paris")).singleElement()
        .satisfies(u -> assertThat(u.getString("titleSource")).isEqualTo(ChatSession.TITLE_AUTO));
    assertThat(titleJobStatus(sid)).isEqualTo(SessionJobState.COMPLETED);
  }

  @Test
  @DisplayName("a title the user gave at creation is never replaced: no title request is made for it")
  void userTitleAtCreationWins(@TempDir Path dir) throws InterruptedException {
    start(dir, new JsonObject());
    h.fake().script(TitleJobHandler.INSTRUCTION, FakeAnthropicServer.stream(List.of("Generated"), 5));
    String mine = createSession(new JsonObject().put("title", "My own title")).getString("id");
    String control = createSession(null).getString("id");

    exchange(mine, "first question of mine");
    exchange(control, "first question of control");
    waitUntil("the control session's title", () -> "Generated".equals(session(control).getString("title")));

    assertThat(titleRequests()).singleElement()
        .satisfies(r -> assertThat(Recorded.textOf(r.body().getJsonArray("messages").getJsonObject(0)))
            .isEqualTo("first question of control"));
    assertThat(session(mine).getString("title")).isEqualTo("My own title");
    assertThat(session(mine).getString("titleSource")).isEqualTo(ChatSession.TITLE_USER);
    assertThat(titleJob(mine)).isNull();
  }

  @Test
  @DisplayName("a rename that lands while the title request is in flight wins: the generated title is never written")
  void renameWhileTitleInFlight(@TempDir Path dir) throws InterruptedException {
    start(dir, new JsonObject());
    // the title streams slowly, so the rename lands while the request is open
    h.fake().script(TitleJobHandler.INSTRUCTION, FakeAnthropicServer.stream(List.of("Generated", " title"), 700));
    String sid = createSession(null).getString("id");
    exchange(sid, "what should this chat be called");
    waitUntil("the title request", () -> titleRequests().size() == 1);
    assertThat(titleJobStatus(sid)).isEqualTo(SessionJobState.PROCESSING);

    HttpResponse<Buffer> renamed = call("PATCH", "/chats/" + sid, new JsonObject().put("title", "Mine")).await();
    assertThat(renamed.statusCode()).isEqualTo(200);
    waitUntil("the title job's end", () -> SessionJobState.SKIPPED.equals(titleJobStatus(sid)));

    assertThat(h.fake().endedAtMs(titleRequests().get(0))).isNotNull();
    JsonObject stored = session(sid);
    assertThat(stored.getString("title")).isEqualTo("Mine");
    assertThat(stored.getString("titleSource")).isEqualTo(ChatSession.TITLE_USER);
    assertThat(titleRequests()).hasSize(1);
  }

  @Test
  @DisplayName("provider errors are retried with backoff, and after session_jobs.max_attempts the job gives up leaving the default title")
  void providerFailureGivesUp(@TempDir Path dir) throws InterruptedException {
    start(dir, new JsonObject());
    h.fake().script(TitleJobHandler.INSTRUCTION, new FakeAnthropicServer.Status(529, "overloaded_error", null));
    String sid = createSession(null).getString("id");
    exchange(sid, "a question the title model cannot name");
    waitUntil("the title job to fail", () -> SessionJobState.FAILED.equals(titleJobStatus(sid)));

    assertThat(titleRequests()).hasSize(3);
    JsonObject job = titleJob(sid);
    assertThat(job.getInteger("attempts")).isEqualTo(3);
    assertThat(job.getJsonObject("lastError").getString("code")).isEqualTo("provider_overloaded");
    assertThat(session(sid).getString("title")).isEqualTo(ChatStore.DEFAULT_TITLE);
    assertThat(session(sid).getString("titleSource")).isEqualTo(ChatSession.TITLE_DEFAULT);
  }

  @Test
  @DisplayName("a worker undeployed while the provider holds its title request: another worker takes the job over and the title is written exactly once")
  void workerUndeployedMidTitle(@TempDir Path dir) throws InterruptedException {
    start(dir, new JsonObject());
    h.fake().script(TitleJobHandler.INSTRUCTION, new FakeAnthropicServer.Hang(),
        FakeAnthropicServer.stream(List.of("Recovered", " title"), 5));
    String sid = createSession(null).getString("id");
    String firstWorker = h.app().deploymentIds().get(1);

    JsonObject result = watch(sid, "Recovered title", () -> {
      exchange(sid, "a question whose title survives a worker");
      try {
        waitUntil("the held title request", () -> titleRequests().size() == 1);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
      vertx.deployVerticle(new AiWorkerVerticle(h.app().config().worker(), h.app().config().providers(),
          h.app().config().limits(), h.app().config().sessionJobs(), h.app().config().titles())).await();
      vertx.undeploy(firstWorker).await();
    }).result().await();

    assertThat(titleRequests()).hasSize(2);
    assertThat(updatesWithTitle(result, "Recovered title")).hasSize(1);
    assertThat(session(sid).getString("title")).isEqualTo("Recovered title");
    JsonObject job = titleJob(sid);
    assertThat(job.getString("status")).isEqualTo(SessionJobState.COMPLETED);
    assertThat(job.getInteger("attempts")).isEqualTo(2);
  }

  @Test
  @DisplayName("a worker that died holding the title job (claimed, never renewed): its lease expires, the sweep hands the job to a live worker, one title is written and the dead owner's late write is refused")
  void crashedOwnerLeaseExpires(@TempDir Path dir) throws InterruptedException {
    // no worker yet: the first exchange is completed by hand and the job is claimed by a worker that then "dies"
    start(dir, new JsonObject().put("verticles", new JsonObject().put("worker", 0)));
    h.fake().script(TitleJobHandler.INSTRUCTION, FakeAnthropicServer.stream(List.of("After", " the crash"), 5));
    String sid = createSession(null).getString("id");
    ChatStore store = h.store();

    JsonObject result = watch(sid, "After the crash", () -> {
      var sent = store.sendMessage(user, sid, "does a crash lose my title", null).await();
      store.claimGeneration(sent.reply().id(), "manual-worker", 30_000).await();
      store.completeGeneration(sent.reply().id(), "manual-worker",
          new ChatStore.Completion("an answer", "m", null, "end_turn", null)).await();
      assertThat(store.claimSessionJob(sid, SessionJobKind.TITLE, "dead-worker", 1000).await().claimed()).isTrue();
      vertx.deployVerticle(new AiWorkerVerticle(h.app().config().worker(), h.app().config().providers(),
          h.app().config().limits(), h.app().config().sessionJobs(), h.app().config().titles())).await();
    }).result().await();

    assertThat(titleRequests()).hasSize(1);
    assertThat(updatesWithTitle(result, "After the crash")).hasSize(1);
    JsonObject job = titleJob(sid);
    assertThat(job.getString("status")).isEqualTo(SessionJobState.COMPLETED);
    assertThat(job.getInteger("attempts")).isEqualTo(2);
    Throwable late = store.completeSessionJob(sid, SessionJobKind.TITLE, "dead-worker", new JsonObject().put("title", "stale"))
        .transform(ar -> Future.succeededFuture(ar.cause())).await();
    assertThat(com.aichat.contract.ErrorCode.fromThrowable(late)).isEqualTo(com.aichat.contract.ErrorCode.CONFLICT);
    assertThat(session(sid).getString("title")).isEqualTo("After the crash");
  }

  @Test
  @DisplayName("with titles.enabled false no title job is created and the default title stays")
  void disabled(@TempDir Path dir) throws InterruptedException {
    start(dir, new JsonObject().put("titles", new JsonObject().put("enabled", false)));
    String sid = createSession(null).getString("id");
    exchange(sid, "no title for me");
    exchange(sid, "still none");
    assertThat(titleJob(sid)).isNull();
    assertThat(titleRequests()).isEmpty();
    assertThat(session(sid).getString("title")).isEqualTo(ChatStore.DEFAULT_TITLE);
  }
}
