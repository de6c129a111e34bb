package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.SessionEvent;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.contract.SessionJobState;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Conversations.SendResult;
import com.aichat.persistence.Jobs.SessionJobClaim;
import com.aichat.persistence.Jobs.SessionJobEnd;
import com.aichat.testing.TestApp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The session-job machinery of the store (docs/generation.md, "Session jobs"), through the deployed
 * {@link PersistenceVerticle} on the embedded server, called over the bus as workers do: the trigger
 * on a first completed exchange, the exclusive claim, lease-guarded writes, the conditional title
 * write, and the sweep's query.
 */
@DisplayName("Session jobs in the store: enqueue, claim, lease, complete, release, fail, sweep")
class SessionJobStoreTest {

  private static final SessionJobKind TITLE = SessionJobKind.TITLE;

  private Vertx vertx;
  private ChatStore store;
  private final String user = new ObjectId().toHexString();
  private final List<SessionJobRequest> delivered = new CopyOnWriteArrayList<>();
  private final List<SessionEvent> sessionEvents = new CopyOnWriteArrayList<>();

  @BeforeEach
  void deploy(@TempDir Path dataDir) {
    vertx = Vertx.vertx();
    vertx.eventBus().<JsonObject>consumer(Addresses.SESSION_JOBS, m -> delivered.add(SessionJobRequest.fromJson(m.body())));
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_SESSION, m -> sessionEvents.add(SessionEvent.fromJson(m.body())));
    PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.embedded("memory", TestApp.freePort()), dataDir).await();
    store = ChatStore.client(vertx);
  }

  @AfterEach
  void close() {
    vertx.close().await();
  }

  /** One exchange completed by {@code worker}. */
  private SendResult completeExchange(String sessionId, String question) {
    SendResult sent = store.sendMessage(user, sessionId, question, null).await();
    store.claimGeneration(sent.reply().id(), "gen-worker", 30_000).await();
    store.completeGeneration(sent.reply().id(), "gen-worker",
        new Completion("an answer", "m", new Usage(1, 1), "end_turn", new ContextInfo(0, 0))).await();
    return sent;
  }

  private SessionJobState titleJob(String sessionId) {
    return store.claimSessionJob(sessionId, TITLE, "peek-" + new ObjectId(), 1).await().job();
  }

  private static ErrorCode failureOf(io.vertx.core.Future<?> f) {
    return PersistenceTestSupport.failureOf(f).await();
  }

  private void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 200 && !condition.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
  }

  @Test
  @DisplayName("a session created without a title has the default one (titleSource default); a given title is the user's")
  void titleSources() {
    ChatSession untitled = store.createSession(user, null, null).await();
    ChatSession titled = store.createSession(user, null, "Trip to Lisbon").await();
    assertThat(untitled.title()).isEqualTo(ChatStore.DEFAULT_TITLE);
    assertThat(untitled.titleSource()).isEqualTo(ChatSession.TITLE_DEFAULT);
    assertThat(titled.titleSource()).isEqualTo(ChatSession.TITLE_USER);
    assertThat(store.renameSession(user, untitled.id(), "Mine").await().titleSource()).isEqualTo(ChatSession.TITLE_USER);
    assertThat(failureOf(store.createSession(user, null, "  "))).isEqualTo(ErrorCode.VALIDATION_FAILED);
  }

  @Test
  @DisplayName("the first completed exchange enqueues one pending title job and sends it to the workers; later ones and titled sessions do not")
  void firstCompletionEnqueuesOnce() throws InterruptedException {
    ChatSession untitled = store.createSession(user, null, null).await();
    ChatSession titled = store.createSession(user, null, "given").await();
    SendResult pending = store.sendMessage(user, untitled.id(), "not answered yet", null).await();
    assertThat(store.findStrandedSessionJobs(Instant.now(), Instant.now().plusSeconds(60), 10).await()).isEmpty();

    completeExchange(untitled.id(), "first");
    completeExchange(untitled.id(), "second");
    completeExchange(titled.id(), "first");
    waitFor(() -> !delivered.isEmpty());
    Thread.sleep(100);

    assertThat(delivered).containsExactly(new SessionJobRequest(untitled.id(), TITLE));
    assertThat(store.findStrandedSessionJobs(Instant.now(), Instant.now().plusSeconds(60), 10).await())
        .containsExactly(new SessionJobRequest(untitled.id(), TITLE));
    assertThat(store.enqueueSessionJob(untitled.id(), TITLE).await()).isFalse();
    assertThat(store.enqueueSessionJob(titled.id(), TITLE).await()).isFalse();
    assertThat(failureOf(store.enqueueSessionJob(new ObjectId().toHexString(), TITLE))).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(pending.reply().id()).isNotNull();
  }

  @Test
  @DisplayName("one claim wins; only the lease owner renews and writes, and the title write sets titleSource auto and publishes session.updated")
  void claimLeaseAndComplete() throws InterruptedException {
    ChatSession s = store.createSession(user, null, null).await();
    assertThat(store.enqueueSessionJob(s.id(), TITLE).await()).isTrue();

    SessionJobClaim a = store.claimSessionJob(s.id(), TITLE, "worker-a", 30_000).await();
    SessionJobClaim b = store.claimSessionJob(s.id(), TITLE, "worker-b", 30_000).await();
    assertThat(a.claimed()).isTrue();
    assertThat(a.job().status()).isEqualTo(SessionJobState.PROCESSING);
    assertThat(a.job().attempts()).isEqualTo(1);
    assertThat(a.job().leaseOwner()).isEqualTo("worker-a");
    assertThat(a.session().id()).isEqualTo(s.id());
    assertThat(b.claimed()).isFalse();
    assertThat(b.job().leaseOwner()).isEqualTo("worker-a");

    assertThat(store.renewSessionJob(s.id(), TITLE, "worker-a", 30_000).await()).isTrue();
    assertThat(store.renewSessionJob(s.id(), TITLE, "worker-b", 30_000).await()).isFalse();
    assertThat(failureOf(store.completeSessionJob(s.id(), TITLE, "worker-b", new JsonObject().put("title", "B"))))
        .isEqualTo(ErrorCode.CONFLICT);
    assertThat(failureOf(store.releaseSessionJob(s.id(), TITLE, "worker-b", null, null))).isEqualTo(ErrorCode.CONFLICT);
    assertThat(failureOf(store.failSessionJob(s.id(), TITLE, "worker-b", new ErrorInfo("x", "y"))))
        .isEqualTo(ErrorCode.CONFLICT);

    sessionEvents.clear();
    SessionJobEnd end = store.completeSessionJob(s.id(), TITLE, "worker-a", new JsonObject().put("title", "Lisbon trip")).await();
    assertThat(end.applied()).isTrue();
    assertThat(end.session().title()).isEqualTo("Lisbon trip");
    assertThat(end.session().titleSource()).isEqualTo(ChatSession.TITLE_AUTO);
    assertThat(store.getSession(user, s.id()).await().title()).isEqualTo("Lisbon trip");
    waitFor(() -> !sessionEvents.isEmpty());
    assertThat(sessionEvents).singleElement().satisfies(e -> {
      assertThat(e.type()).isEqualTo(SessionEvent.UPDATED);
      assertThat(e.session().title()).isEqualTo("Lisbon trip");
    });
    SessionJobState after = titleJob(s.id());
    assertThat(after.status()).isEqualTo(SessionJobState.COMPLETED);
    assertThat(after.leaseOwner()).isNull();
    assertThat(failureOf(store.completeSessionJob(s.id(), TITLE, "worker-a", new JsonObject().put("title", "again"))))
        .isEqualTo(ErrorCode.CONFLICT);
    assertThat(store.findStrandedSessionJobs(Instant.now().plusSeconds(3600), Instant.now().plusSeconds(3600), 10).await())
        .isEmpty();
  }

  @Test
  @DisplayName("a rename that lands while the title job runs wins: the job's write is refused and it ends skipped")
  void renameWins() {
    ChatSession s = store.createSession(user, null, null).await();
    store.enqueueSessionJob(s.id(), TITLE).await();
    store.claimSessionJob(s.id(), TITLE, "worker-a", 30_000).await();
    store.renameSession(user, s.id(), "Chosen by me").await();

    SessionJobEnd end = store.completeSessionJob(s.id(), TITLE, "worker-a", new JsonObject().put("title", "Generated")).await();
    assertThat(end.applied()).isFalse();
    assertThat(end.session().title()).isEqualTo("Chosen by me");
    assertThat(store.getSession(user, s.id()).await().titleSource()).isEqualTo(ChatSession.TITLE_USER);
    assertThat(titleJob(s.id()).status()).isEqualTo(SessionJobState.SKIPPED);
  }

  @Test
  @DisplayName("a released job waits for its retry time; an expired lease is found by the sweep and taken over, and the stale owner's write is refused")
  void releaseSweepAndTakeOver() throws InterruptedException {
    ChatSession s = store.createSession(user, null, null).await();
    store.enqueueSessionJob(s.id(), TITLE).await();
    store.claimSessionJob(s.id(), TITLE, "worker-a", 30_000).await();
    Instant retryAt = Instant.now().plusSeconds(60);
    store.releaseSessionJob(s.id(), TITLE, "worker-a", retryAt, new ErrorInfo("provider_overloaded", "busy")).await();
    SessionJobClaim early = store.claimSessionJob(s.id(), TITLE, "worker-b", 30_000).await();
    assertThat(early.claimed()).isFalse();
    assertThat(early.job().status()).isEqualTo(SessionJobState.PENDING);
    assertThat(early.job().lastError().code()).isEqualTo("provider_overloaded");
    // pending: found once its due time is older than the grace
    assertThat(store.findStrandedSessionJobs(Instant.now(), Instant.now(), 10).await()).isEmpty();
    assertThat(store.findStrandedSessionJobs(Instant.now(), retryAt.plusSeconds(1), 10).await()).hasSize(1);

    ChatSession t = store.createSession(user, null, null).await();
    store.enqueueSessionJob(t.id(), TITLE).await();
    store.claimSessionJob(t.id(), TITLE, "dead-worker", 1).await();
    Thread.sleep(20);
    assertThat(store.findStrandedSessionJobs(Instant.now(), Instant.now().minusSeconds(60), 10).await())
        .containsExactly(new SessionJobRequest(t.id(), TITLE));
    SessionJobClaim taken = store.claimSessionJob(t.id(), TITLE, "worker-b", 30_000).await();
    assertThat(taken.claimed()).isTrue();
    assertThat(taken.job().attempts()).isEqualTo(2);
    assertThat(failureOf(store.completeSessionJob(t.id(), TITLE, "dead-worker", new JsonObject().put("title", "stale"))))
        .isEqualTo(ErrorCode.CONFLICT);
    assertThat(store.completeSessionJob(t.id(), TITLE, "worker-b", new JsonObject().put("title", "fresh")).await().applied())
        .isTrue();
    assertThat(store.getSession(user, t.id()).await().title()).isEqualTo("fresh");
  }

  @Test
  @DisplayName("a failed job keeps the default title, records its error and is never swept again")
  void failKeepsTheTitle() {
    ChatSession s = store.createSession(user, null, null).await();
    store.enqueueSessionJob(s.id(), TITLE).await();
    store.claimSessionJob(s.id(), TITLE, "worker-a", 30_000).await();
    store.failSessionJob(s.id(), TITLE, "worker-a", new ErrorInfo("provider_error", "gave up")).await();
    SessionJobState job = titleJob(s.id());
    assertThat(job.status()).isEqualTo(SessionJobState.FAILED);
    assertThat(job.lastError().code()).isEqualTo("provider_error");
    assertThat(store.getSession(user, s.id()).await().title()).isEqualTo(ChatStore.DEFAULT_TITLE);
    assertThat(store.findStrandedSessionJobs(Instant.now().plusSeconds(3600), Instant.now().plusSeconds(3600), 10).await())
        .isEmpty();
    assertThat(store.enqueueSessionJob(s.id(), TITLE).await()).isFalse();
  }
}
