package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;

import com.aichat.contract.SessionJobKind;
import com.mongodb.MongoCommandException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Creates the collections and indexes of docs/architecture.md §3 at startup (idempotent), plus the send limits'
 * ({@link MongoSendAdmission}): the unique sparse {@code pendingSlot_unique} on replies, and the
 * {@code usage_counters} collection with its TTL index {@code expiresAt_ttl}. The embedded server
 * enforces unique indexes (what idempotent sends and pending slots rely on) but does not expire
 * documents, so its old daily counters stay (one small document per user and day). Issue 12 adds
 * {@code userId_createdAt_id} (search of a user's messages), the sparse {@code usageLedger_updatedAt}
 * (ledger recovery) and the {@code usage_ledger} collection with {@code userId_day_model}
 * ({@link MongoUsageLedger}).
 */
public final class MongoSchema {

  /** MongoDB's NamespaceExists error code. */
  private static final int NAMESPACE_EXISTS = 48;

  private MongoSchema() {}

  /** Creates what is missing; fails if the database cannot be reached. */
  public static Future<Void> ensure(MongoClient mongo) {
    return mongo
        .getCollections()
        .compose(existing -> createMissing(mongo, existing))
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put("chatSessionId", 1).put("createdAt", 1).put("_id", 1),
            new IndexOptions().name("chatSessionId_createdAt_id")))
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put("clientMessageKey", 1),
            new IndexOptions().name("chatSessionId_clientMessageId_unique").unique(true).sparse(true)))
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put("status", 1).put("leaseUntil", 1),
            new IndexOptions()
                .name("status_leaseUntil_replies")
                .partialFilterExpression(new JsonObject().put("messageType", "ai_report"))))
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put("userId", 1).put("createdAt", 1),
            new IndexOptions().name("userId_createdAt")))
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put(MongoSendAdmission.PENDING_SLOT, 1),
            new IndexOptions().name("pendingSlot_unique").unique(true).sparse(true)))
        .compose(v -> mongo.createIndexWithOptions(
            MongoSendAdmission.USAGE_COUNTERS,
            new JsonObject().put("expiresAt", 1),
            new IndexOptions().name("expiresAt_ttl").expireAfter(0L, TimeUnit.SECONDS)))
        .compose(v -> mongo.createIndexWithOptions(
            SESSIONS,
            new JsonObject().put("userId", 1).put("updatedAt", -1).put("_id", -1),
            new IndexOptions().name("userId_updatedAt_id")))
        // Search: a user's messages newest first, in (createdAt, _id) order, stopping at the page limit.
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put("userId", 1).put("createdAt", 1).put("_id", 1),
            new IndexOptions().name("userId_createdAt_id")))
        // Usage ledger recovery: completed replies whose ledger increment may still be owed.
        .compose(v -> mongo.createIndexWithOptions(
            MESSAGES,
            new JsonObject().put(MongoUsageLedger.MARKER, 1).put("updatedAt", 1),
            new IndexOptions().name("usageLedger_updatedAt").sparse(true)))
        .compose(v -> mongo.createIndexWithOptions(
            MongoUsageLedger.USAGE_LEDGER,
            new JsonObject().put("userId", 1).put("day", 1).put("model", 1),
            new IndexOptions().name("userId_day_model")))
        .compose(v -> sessionJobIndexes(mongo));
  }

  /** The sweep's sparse {@code (<kind>Job.status, <kind>Job.dueAt)} index of each session job kind. */
  private static Future<Void> sessionJobIndexes(MongoClient mongo) {
    Future<Void> chain = Future.succeededFuture();
    for (SessionJobKind kind : SessionJobKind.values()) {
      chain = chain.compose(v -> mongo.createIndexWithOptions(
          SESSIONS,
          new JsonObject().put(kind.field() + ".status", 1).put(kind.field() + ".dueAt", 1),
          new IndexOptions().name(MongoSessionJobStore.indexName(kind)).sparse(true)));
    }
    return chain;
  }

  private static Future<Void> createMissing(MongoClient mongo, List<String> existing) {
    Future<Void> chain = Future.succeededFuture();
    for (String name : List.of(SESSIONS, MESSAGES, MongoSendAdmission.USAGE_COUNTERS, MongoUsageLedger.USAGE_LEDGER)) {
      if (!existing.contains(name)) {
        chain = chain.compose(v -> mongo.createCollection(name).recover(MongoSchema::alreadyExists));
      }
    }
    return chain;
  }

  /** Another node created it between our listing and our create: fine. */
  private static Future<Void> alreadyExists(Throwable err) {
    return err instanceof MongoCommandException e && e.getErrorCode() == NAMESPACE_EXISTS
        ? Future.succeededFuture()
        : Future.failedFuture(err);
  }
}
