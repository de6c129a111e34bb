package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;

import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.contract.SessionJobState;
import com.aichat.persistence.Recovery;
import com.aichat.persistence.StoreChanges;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Recovery} on MongoDB: the sweep's queries for stranded replies and session jobs, the end of
 * a lost node's reply leases, and the repair of interrupted usage-ledger increments
 * ({@link MongoUsageLedger#recover}). Each method's semantics are those documented on {@link Recovery}.
 */
public final class MongoRecovery extends MongoStoreSupport implements Recovery {

  private final MongoUsageLedger ledger;

  MongoRecovery(Vertx vertx, MongoClient mongo, Clock clock, MongoUsageLedger ledger, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    this.ledger = ledger;
  }

  @Override
  public Future<List<String>> findStrandedReplies(Instant now, Instant pendingBefore, int limit) {
    if (now == null || pendingBefore == null) {
      return invalid("now and pendingBefore are required");
    }
    JsonObject stalePending = new JsonObject().put("$lt", date(pendingBefore));
    JsonObject query =
        new JsonObject()
            .put("messageType", AI_REPORT)
            .put("$or", new JsonArray()
                .add(new JsonObject().put("status", PENDING).put("updatedAt", stalePending)
                    .put("notBefore", new JsonObject().put("$exists", false)))
                .add(new JsonObject().put("status", PENDING).put("updatedAt", stalePending)
                    .put("notBefore", new JsonObject().put("$lte", date(now))))
                .add(new JsonObject().put("status", PROCESSING)
                    .put("leaseUntil", new JsonObject().put("$lt", date(now)))));
    FindOptions opts =
        new FindOptions()
            .setSort(new JsonObject().put("updatedAt", 1).put("_id", 1))
            .setFields(new JsonObject().put("_id", 1))
            .setLimit(Math.max(1, limit));
    return mongo
        .findWithOptions(MESSAGES, query, opts)
        .map(docs -> docs.stream().map(d -> MongoDocs.id(d.getValue("_id"))).toList())
        .recover(err -> MongoFailures.classify("findStrandedReplies", err));
  }

  @Override
  public Future<List<String>> expireLeasesOf(String ownerPrefix) {
    if (ownerPrefix == null || ownerPrefix.isBlank()) {
      return invalid("ownerPrefix is required");
    }
    // Processing replies are bounded by the workers' slots, so reading their owners is cheap; the
    // prefix is compared here rather than with $regex, which not every backend indexes.
    FindOptions opts = new FindOptions().setFields(new JsonObject().put("_id", 1).put("leaseOwner", 1));
    return mongo
        .findWithOptions(MESSAGES, new JsonObject().put("status", PROCESSING).put("messageType", AI_REPORT), opts)
        .compose(docs -> {
          Instant now = now();
          List<Future<String>> ends = docs.stream()
              .filter(d -> d.getString("leaseOwner", "").startsWith(ownerPrefix))
              .map(d -> expireLease(MongoDocs.id(d.getValue("_id")), d.getString("leaseOwner"), now))
              .toList();
          return Future.all(ends).map(all -> all.<String>list().stream().filter(id -> id != null).toList());
        })
        .recover(err -> MongoFailures.classify("expireLeasesOf", err));
  }

  /** The id when this call ended the lease {@code owner} held, else null. */
  private Future<String> expireLease(String messageId, String owner, Instant now) {
    JsonObject query = MongoGenerationStore.leaseFilter(messageId, owner).put("leaseUntil", new JsonObject().put("$gte", date(now)));
    JsonObject update = new JsonObject().put("$set", new JsonObject()
        .put("leaseUntil", date(now.minusMillis(1)))
        .put("updatedAt", date(now)));
    return findAndUpdate(MESSAGES, query, update).map(doc -> doc == null ? null : messageId);
  }

  @Override
  public Future<List<SessionJobRequest>> findStrandedSessionJobs(Instant now, Instant pendingBefore, int limit) {
    if (now == null || pendingBefore == null) {
      return invalid("now and pendingBefore are required");
    }
    List<Future<List<SessionJobRequest>>> perKind = new ArrayList<>();
    for (SessionJobKind kind : SessionJobKind.values()) {
      String f = kind.field();
      JsonObject query = new JsonObject().put("$or", new JsonArray()
          .add(new JsonObject().put(f + ".status", SessionJobState.PENDING)
              .put(f + ".dueAt", new JsonObject().put("$lt", date(pendingBefore))))
          .add(new JsonObject().put(f + ".status", SessionJobState.PROCESSING)
              .put(f + ".dueAt", new JsonObject().put("$lt", date(now)))));
      FindOptions opts = new FindOptions()
          .setSort(new JsonObject().put(f + ".dueAt", 1))
          .setFields(new JsonObject().put("_id", 1))
          .setLimit(Math.max(1, limit));
      perKind.add(mongo.findWithOptions(SESSIONS, query, opts)
          .map(docs -> docs.stream().map(d -> new SessionJobRequest(MongoDocs.id(d.getValue("_id")), kind)).toList()));
    }
    return Future.all(perKind)
        .map(cf -> perKind.stream().flatMap(p -> p.result().stream()).toList())
        .recover(err -> MongoFailures.classify("findStrandedSessionJobs", err));
  }

  @Override
  public Future<Integer> recoverUsageLedger(Instant completedBefore, int limit) {
    return ledger.recover(completedBefore, limit).recover(err -> MongoFailures.classify("recoverUsageLedger", err));
  }
}
