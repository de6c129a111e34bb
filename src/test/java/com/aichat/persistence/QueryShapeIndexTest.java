package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query the store sends is served by an index. The scenario runs each store operation the
 * service uses (send, idempotent retry, list, page both ways, claim, checkpoint, complete, fail,
 * retry release, cancel, sweep, join snapshot, quota count, subscription lookup, delete cascade)
 * through the deployed {@link PersistenceVerticle}; the database then reports how it answered each
 * query shape. Subclasses read that report: the embedded server's plan log, or a real MongoDB's
 * profiler. Both check the same list of operations ({@link #scenario}).
 */
abstract class QueryShapeIndexTest {

  /** The collections whose queries must use an index. */
  static final Set<String> COLLECTIONS =
      Set.of("chatsessions", "prompthistories", "users", "usage_counters", "usage_ledger");

  protected Vertx vertx;
  protected MongoClient direct;

  @TempDir Path dataDir;

  /** Deploys the store; returns a direct client on its database. */
  protected abstract MongoClient deploy(Vertx vertx, Path dataDir);

  /** Starts recording how queries are answered. */
  protected abstract void startRecording();

  /** Each recorded query of {@link #COLLECTIONS}: its shape and whether an index served it. */
  protected abstract List<RecordedQuery> recorded();

  record RecordedQuery(String collection, String shape, String plan, boolean indexed) {}

  @AfterEach
  void tearDown() {
    if (direct != null) {
      direct.close().await();
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @Test
  @DisplayName("each store operation's queries are answered from an index, never by a collection scan")
  void everyQueryUsesAnIndex() {
    vertx = Vertx.vertx();
    direct = deploy(vertx, dataDir);
    ChatStore store = ChatStore.client(vertx);
    String other = new ObjectId().toHexString();
    // Other users' data, so a scan would be visible in documents examined.
    String otherSession = store.createSession(other, null, "other").await().id();
    for (int i = 0; i < 20; i++) {
      store.sendMessage(other, otherSession, "other " + i, null).await();
    }
    // Finished, as most stored replies are: only unfinished ones are the sweep's to look at.
    direct.updateCollectionWithOptions("prompthistories", new JsonObject().put("status", "pending"),
        new JsonObject().put("$set", new JsonObject().put("status", "completed")),
        new io.vertx.ext.mongo.UpdateOptions().setMulti(true)).await();
    startRecording();
    scenario(store);
    List<RecordedQuery> queries = recorded();
    assertThat(queries).as("recorded queries").isNotEmpty();
    assertThat(queries.stream().map(RecordedQuery::collection).distinct())
        .contains("chatsessions", "prompthistories"); // "users" only exists where an app keeps it
    assertThat(queries).allSatisfy(q -> assertThat(q.indexed())
        .as("%s %s answered by %s", q.collection(), q.shape(), q.plan()).isTrue());
  }

  /** The store operations the service performs, in the order a conversation uses them. */
  static void scenario(ChatStore store) {
    String user = new ObjectId().toHexString();
    String worker = "worker-1";
    String session = store.createSession(user, null, "shapes").await().id();
    store.getSession(user, session).await();
    store.renameSession(user, session, "renamed").await();
    String page = store.listSessions(user, null, 1, null).await().nextCursor();
    store.listSessions(user, null, 20, page).await();
    store.listSessions(user, new ObjectId().toHexString(), 20, null).await();

    // The send limits: a counted send (the day's first: an upsert), one more, a refusal at the quota
    // (the upsert collides, then the plain conditional increment), a refusal at the pending cap.
    String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
    ChatStore.SendLimits limits = new ChatStore.SendLimits(2, day, 35, 5);
    SendResult limited = store.sendMessage(user, session, "limited", "l-1", limits).await();
    store.sendMessage(user, session, "limited again", "l-1", limits).await();
    store.sendMessage(user, session, "second", null, limits).await();
    store.sendMessage(user, session, "over quota", null, limits).otherwiseEmpty().await();
    store.sendMessage(user, session, "over cap", null, new ChatStore.SendLimits(-1, null, 35, 2)).otherwiseEmpty().await();
    store.requestCancel(user, session, limited.reply().id()).await();
    SendResult first = store.sendMessage(user, session, "hello", "c-1").await();
    store.sendMessage(user, session, "hello", "c-1").await(); // an idempotent retry
    store.findSend(user, session, "c-1").await();
    String reply = first.reply().id();
    store.claimGeneration(reply, worker, 30_000).await();
    store.loadHistory(session, first.userMessage().createdAt(), first.userMessage().id(), 40).await();
    store.checkpointGeneration(reply, worker, "partial", 30_000).await();
    store.findActiveReplies(user, session).await();
    store.completeGeneration(reply, worker,
        new Completion("done", "offline", new Usage(1, 2), "end_turn", new ContextInfo(0, 0))).await();

    SendResult second = store.sendMessage(user, session, "again", null).await();
    store.claimGeneration(second.reply().id(), worker, 30_000).await();
    store.releaseForRetry(second.reply().id(), worker, Instant.now().minusSeconds(1), new ErrorInfo("x", "y")).await();
    store.claimGeneration(second.reply().id(), worker, 30_000).await();
    store.failGeneration(second.reply().id(), worker, new ErrorInfo("provider_error", "failed")).await();

    SendResult third = store.sendMessage(user, session, "third", null).await();
    store.requestCancel(user, session, third.reply().id()).await();
    SendResult fourth = store.sendMessage(user, session, "fourth", null).await();
    store.claimGeneration(fourth.reply().id(), worker, 30_000).await();
    store.requestCancel(user, session, fourth.reply().id()).await();
    store.cancelGeneration(fourth.reply().id(), worker, "part").await();

    String cursor = store.listMessages(user, session, null, null, 2).await().nextCursor();
    store.listMessages(user, session, cursor, null, 2).await();
    store.listMessages(user, session, null, cursor, 2).await();
    store.listMessages(user, session, first.userMessage().id(), null, 2).await();
    store.getMessage(user, session, reply).await();
    store.findStrandedReplies(Instant.now(), Instant.now().minusSeconds(15), 100).await();
    store.countUserMessagesSince(user, Instant.now().minusSeconds(86_400)).await();
    store.lookupUserField("users", "_id", user, "subscription.status").await();

    // History (issue 12): export pages, usage ledger reads and recovery, search of both collections.
    String exportCursor = store.listMessageDocuments(user, session, null, 2).await().nextCursor();
    store.listMessageDocuments(user, session, exportCursor, 2).await();
    String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
    store.readUsage(user, today, today).await();
    store.recoverUsageLedger(Instant.now(), 10).await();
    String searchCursor = store.search(user, "e", 1, null).await().nextCursor();
    store.search(user, "e", 1, searchCursor).await();
    store.search(user, "hello", 20, null).await();
    // Session jobs: the title job of an untitled session, from its first completed exchange to the sweep.
    com.aichat.contract.SessionJobKind title = com.aichat.contract.SessionJobKind.TITLE;
    String untitled = store.createSession(user, null, null).await().id();
    SendResult q = store.sendMessage(user, untitled, "name me", null).await();
    store.claimGeneration(q.reply().id(), worker, 30_000).await();
    store.completeGeneration(q.reply().id(), worker,
        new Completion("named", "offline", new Usage(1, 2), "end_turn", new ContextInfo(0, 0))).await();
    store.enqueueSessionJob(untitled, title).await();
    store.claimSessionJob(untitled, title, worker, 30_000).await();
    store.renewSessionJob(untitled, title, worker, 30_000).await();
    store.releaseSessionJob(untitled, title, worker, Instant.now().minusSeconds(1), new ErrorInfo("x", "y")).await();
    store.claimSessionJob(untitled, title, worker, 30_000).await();
    store.completeSessionJob(untitled, title, worker, new JsonObject().put("title", "Named")).await();
    store.findStrandedSessionJobs(Instant.now(), Instant.now().minusSeconds(15), 100).await();
    store.deleteSession(user, untitled).await();
    store.deleteSession(user, session).await();
  }

  /** Deploys the store on the embedded server of {@code backend}. */
  static MongoClient deployEmbedded(Vertx vertx, Path dataDir, String backend) {
    int port = com.aichat.testing.TestApp.freePort();
    Future<String> deployed =
        PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.embedded(backend, port), dataDir);
    deployed.await();
    return MongoClient.create(vertx, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + port).put("db_name", "chat"));
  }
}
