package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ErrorCode;
import com.aichat.persistence.Conversations.SendLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The send limits of {@link MongoChatStore#sendMessage}: the daily quota counter and the per-user
 * pending-reply slots. Every query here is a lookup on a unique key ({@code _id} of
 * {@value #USAGE_COUNTERS}, {@code pendingSlot} of {@value MongoChatStore#MESSAGES}).
 *
 * <p><b>Daily counter.</b> One document per user and UTC day, {@code _id = "<userId>:<yyyy-MM-dd>"},
 * with {@code userId}, {@code day} (the day's midnight), {@code messages} (sends admitted that day),
 * {@code createdAt}, {@code updatedAt} and {@code expiresAt} (a TTL index removes old days on MongoDB;
 * the embedded server keeps them, one small document per user and day). Admission is one
 * {@code findOneAndUpdate} of {@code {_id, messages: {$lt: limit}}} with {@code $inc} and upsert: the
 * database serialises concurrent sends on the one document, so at most {@code limit} succeed. When the
 * counter is at the limit the upsert's insert collides on {@code _id} (E11000); so does the loser of two
 * first sends of the day, which is why a duplicate key is answered by one more conditional increment
 * without upsert before the send is refused. Token counts can later be added to the same document.
 *
 * <p><b>Pending slots.</b> A reply that is {@code pending} or {@code processing} carries
 * {@code pendingSlot = "<userId>:<n>"} with {@code n < maxPendingReplies}, under a unique sparse index;
 * every write that ends a reply unsets it in the same single-document update, and deleting the reply
 * frees it too. So the cap is enforced by the unique index under any concurrency, and the slots in use
 * are always exactly the user's unfinished replies: there is no separate counter that could drift.
 * Replies stored before slots existed hold none.
 */
final class MongoSendAdmission {

  /** Collection of per-user daily usage counters. */
  static final String USAGE_COUNTERS = "usage_counters";
  /** The reply field holding its pending slot. */
  static final String PENDING_SLOT = "pendingSlot";

  private final MongoClient mongo;
  private final Clock clock;

  MongoSendAdmission(MongoClient mongo, Clock clock) {
    this.mongo = mongo;
    this.clock = clock;
  }

  // ---- daily quota ----------------------------------------------------------------------------

  /** A reserved unit of the daily quota, or {@link #NONE} when the send counts against none. */
  record QuotaUnit(String counterId) {
    static final QuotaUnit NONE = new QuotaUnit(null);
  }

  /** Takes one unit of the user's quota for {@code limits.quotaDay()}, or fails QUOTA_EXCEEDED. */
  Future<QuotaUnit> reserveQuota(String userId, SendLimits limits) {
    if (!limits.hasQuota()) {
      return Future.succeededFuture(QuotaUnit.NONE);
    }
    LocalDate day;
    try {
      day = LocalDate.parse(limits.quotaDay() == null ? "" : limits.quotaDay());
    } catch (DateTimeParseException e) {
      return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("quotaDay must be yyyy-MM-dd"));
    }
    if (limits.dailyMessages() == 0) {
      return exceeded();
    }
    String id = userId + ":" + day;
    JsonObject query = counterBelow(id, limits.dailyMessages());
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    JsonObject update = new JsonObject()
        .put("$inc", new JsonObject().put("messages", 1))
        .put("$set", new JsonObject().put("updatedAt", date(now)))
        .put("$setOnInsert", new JsonObject()
            .put("userId", oid(userId))
            .put("day", date(day.atStartOfDay(ZoneOffset.UTC).toInstant()))
            .put("createdAt", date(now))
            .put("expiresAt", date(day.plusDays(1L + Math.max(0, limits.usageRetentionDays()))
                .atStartOfDay(ZoneOffset.UTC).toInstant())));
    return mongo
        .findOneAndUpdateWithOptions(USAGE_COUNTERS, query, update, new FindOptions(),
            new UpdateOptions().setUpsert(true).setReturningNewDocument(true))
        .recover(err -> MongoFailures.isDuplicateKey(err)
            // at the limit, or another first send of the day created the document first
            ? mongo.findOneAndUpdateWithOptions(USAGE_COUNTERS, query,
                new JsonObject().put("$inc", new JsonObject().put("messages", 1))
                    .put("$set", new JsonObject().put("updatedAt", date(now))),
                new FindOptions(), new UpdateOptions().setReturningNewDocument(true))
            : Future.failedFuture(err))
        .compose(doc -> doc == null ? exceeded() : Future.succeededFuture(new QuotaUnit(id)));
  }

  /**
   * Gives a reserved unit back (the send it was taken for stored nothing). Best effort: a failure is
   * logged by the caller's classification and keeps the unit (the quota fails closed).
   */
  Future<Void> refund(QuotaUnit unit) {
    if (unit == null || unit.counterId() == null) {
      return Future.succeededFuture();
    }
    JsonObject query = new JsonObject().put("_id", unit.counterId())
        .put("messages", new JsonObject().put("$gt", 0));
    JsonObject update = new JsonObject().put("$inc", new JsonObject().put("messages", -1));
    return mongo.findOneAndUpdate(USAGE_COUNTERS, query, update).mapEmpty();
  }

  private static JsonObject counterBelow(String id, long limit) {
    return new JsonObject().put("_id", id).put("messages", new JsonObject().put("$lt", limit));
  }

  private static <T> Future<T> exceeded() {
    return Future.failedFuture(ErrorCode.QUOTA_EXCEEDED.failure("the daily message quota is used up"));
  }

  // ---- pending slots --------------------------------------------------------------------------

  /**
   * The user's free pending slots, in order; null when there is no cap. Fails TOO_MANY_PENDING when
   * every slot is taken.
   */
  Future<List<String>> freeSlots(String userId, SendLimits limits) {
    int cap = limits.maxPendingReplies();
    if (cap <= 0) {
      return Future.succeededFuture(null);
    }
    JsonArray all = new JsonArray();
    for (int i = 0; i < cap; i++) {
      all.add(slot(userId, i));
    }
    return mongo
        .findWithOptions(MESSAGES, new JsonObject().put(PENDING_SLOT, new JsonObject().put("$in", all)),
            new FindOptions().setFields(new JsonObject().put(PENDING_SLOT, 1)))
        .compose(taken -> {
          Set<String> used = new HashSet<>();
          taken.forEach(d -> used.add(d.getString(PENDING_SLOT)));
          List<String> free = new ArrayList<>();
          all.forEach(s -> {
            if (!used.contains((String) s)) {
              free.add((String) s);
            }
          });
          return free.isEmpty() ? tooManyPending(cap) : Future.succeededFuture(free);
        });
  }

  static <T> Future<T> tooManyPending(int cap) {
    return Future.failedFuture(ErrorCode.TOO_MANY_PENDING.failure(
        "you already have " + cap + " replies waiting for the AI; wait for one to finish"));
  }

  static String slot(String userId, int n) {
    return userId + ":" + n;
  }
}
