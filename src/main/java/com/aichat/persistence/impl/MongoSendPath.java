package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.SessionEvent;
import com.aichat.persistence.Conversations.SendLimits;
import com.aichat.persistence.Conversations.SendResult;
import com.aichat.persistence.StoreChanges;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The send path of {@link MongoChatStore} (docs/architecture.md §5): the session's write (ownership,
 * counters) and one ordered insert of the question and its reply placeholder, with the daily quota
 * and the pending-reply slots of {@link MongoSendAdmission}, and the idempotent retry of a send that
 * carries a {@code clientMessageId}. Semantics as documented on
 * {@link com.aichat.persistence.Conversations#sendMessage}.
 *
 * <p>Idempotent sends use the unique sparse index on {@code clientMessageKey}
 * ({@code u:<chatSessionId>:<clientMessageId>} on the user message, {@code r:...} on its placeholder;
 * set only when the send carries a {@code clientMessageId}). A compound sparse index on
 * {@code (chatSessionId, clientMessageId)} would index every message (a sparse compound index skips
 * only documents missing all of its fields), so the second message without a client id would
 * collide.
 */
final class MongoSendPath extends MongoStoreSupport {

  private static final Logger log = LoggerFactory.getLogger(MongoSendPath.class);

  /** How long after a send its placeholder may still be on its way (see {@link #replyOf}). */
  private static final java.time.Duration PAIR_IN_FLIGHT = java.time.Duration.ofSeconds(5);
  private static final long PAIR_WAIT_MS = 50;
  private static final int PAIR_WAIT_TRIES = 100;

  private final MongoSendAdmission admission;

  MongoSendPath(Vertx vertx, MongoClient mongo, Clock clock, MongoSendAdmission admission, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    this.admission = admission;
  }

  Future<SendResult> sendMessage(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    if (content == null) {
      return invalid("content is required");
    }
    if (!isId(userId) || !isId(sessionId)) {
      return sessionNotFound();
    }
    SendLimits l = limits == null ? SendLimits.NONE : limits;
    // A retry is recognised before any limit is looked at: it neither counts nor can be refused. Only
    // an idempotent send needs the look-up; the ownership check is the session's write below.
    Future<SendResult> earlier = clientMessageId == null
        ? Future.succeededFuture(null)
        : ownedSession(userId, sessionId).compose(s -> findPair(userId, sessionId, clientMessageId));
    return earlier
        .compose(existing -> existing != null
            ? Future.succeededFuture(existing)
            : admitAndInsert(userId, sessionId, content, clientMessageId, l)
                .recover(err -> refusedUnlessStored(err, userId, sessionId, clientMessageId)))
        .recover(err -> MongoFailures.classify("sendMessage", err));
  }

  /**
   * Identical sends racing each other all pass the retry check before the first is stored; those the
   * limits then refuse are retries after all when the winner stored the pair, and get it.
   */
  private Future<SendResult> refusedUnlessStored(
      Throwable err, String userId, String sessionId, String clientMessageId) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (clientMessageId == null || (code != ErrorCode.QUOTA_EXCEEDED && code != ErrorCode.TOO_MANY_PENDING)) {
      return Future.failedFuture(err);
    }
    return findPair(userId, sessionId, clientMessageId)
        .compose(pair -> pair != null ? Future.succeededFuture(pair) : Future.failedFuture(err));
  }

  /**
   * One unit of the daily quota (when there is one), then the pair (with its pending slot). Whatever
   * stops the pair from being stored after the unit was taken gives the unit back.
   */
  private Future<SendResult> admitAndInsert(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    // With a quota as well, the pending cap is looked at first (read only), so a user at both limits is
    // told TOO_MANY_PENDING, as before, and the quota is not touched.
    Future<List<String>> capFirst = limits.hasQuota() && limits.maxPendingReplies() > 0
        ? admission.freeSlots(userId, limits) : Future.succeededFuture(null);
    return capFirst
        .compose(free -> admission.reserveQuota(userId, limits)
            .map(unit -> new Admitted(unit, free == null || free.isEmpty() ? null : free.get(0))))
        .compose(admitted -> insertPair(userId, sessionId, content, clientMessageId, limits.maxPendingReplies(),
                admitted.freeSlot())
            .compose(r -> r.created() ? Future.succeededFuture(r) : refundQuietly(admitted.unit()).map(r))
            .recover(err -> refundQuietly(admitted.unit()).compose(v -> Future.<SendResult>failedFuture(err))));
  }

  /** A send's unit of the quota, and the first pending slot seen free when it was read first (else null). */
  private record Admitted(MongoSendAdmission.QuotaUnit unit, String freeSlot) {}

  private Future<Void> refundQuietly(MongoSendAdmission.QuotaUnit unit) {
    return admission.refund(unit).recover(err -> {
      log.warn("quota unit {} not given back: {}", unit.counterId(), err.toString());
      return Future.succeededFuture();
    });
  }

  Future<SendResult> findSend(String userId, String sessionId, String clientMessageId) {
    if (clientMessageId == null) {
      return invalid("clientMessageId is required");
    }
    return ownedSession(userId, sessionId)
        .compose(s -> findPair(userId, sessionId, clientMessageId))
        .compose(pair -> pair != null
            ? Future.succeededFuture(pair)
            : Future.<SendResult>failedFuture(ErrorCode.NOT_FOUND.failure("no message with this clientMessageId")))
        .recover(err -> MongoFailures.classify("findSend", err));
  }

  /**
   * The send in two commands (docs/architecture.md §5): one {@code findOneAndUpdate} of the user's
   * session (the ownership check, and {@code lastMessageAt}, {@code updatedAt}, {@code messageCount}),
   * then one ordered {@code insert} of the user message and its placeholder (ObjectId order matches).
   * With a pending cap ({@code cap > 0}) the placeholder takes the user's first slot; when a concurrent
   * reply holds it (a duplicate key on the placeholder, the question being stored) the free slots are
   * read and tried in order, and when every one is taken the question is removed again and the send
   * fails TOO_MANY_PENDING. A send that stores no pair takes its session change back.
   * {@code message.created} is published for the question, then for its reply, then
   * {@code session.updated}, once all is stored.
   */
  private Future<SendResult> insertPair(
      String userId, String sessionId, String content, String clientMessageId, int cap, String freeSlot) {
    Instant now = now();
    JsonObject user = messageDoc(newId(), userId, sessionId, USER, COMPLETED, content, now);
    if (clientMessageId != null) {
      user.put("clientMessageId", clientMessageId)
          .put("clientMessageKey", userMessageKey(sessionId, clientMessageId));
    }
    String userMessageId = MongoDocs.id(user.getValue("_id"));
    JsonObject reply = replyDoc(userId, sessionId, userMessageId, now, clientMessageId,
        cap <= 0 ? null : freeSlot != null ? freeSlot : MongoSendAdmission.slot(userId, 0));
    JsonObject touch = new JsonObject()
        .put("$set", new JsonObject().put("lastMessageAt", date(now)).put("updatedAt", date(now)))
        .put("$inc", new JsonObject().put("messageCount", 2));
    // the session as it was (to take the change back exactly); the event gets it as it is now
    java.util.function.Supplier<Future<JsonObject>> touchSession = () -> mongo.findOneAndUpdateWithOptions(
        SESSIONS, owned(sessionId, userId), touch, new FindOptions(),
        new io.vertx.ext.mongo.UpdateOptions().setReturningNewDocument(false));
    Future<SendResult> stored;
    if (clientMessageId == null) {
      // the session's write is the ownership check, so it goes first
      stored = touchSession.get().compose(before -> before == null
          ? sessionNotFound()
          : insertBoth(user, reply, userId, sessionId, null, cap)
              .recover(err -> untouch(before, now).compose(v -> Future.<ChatMessage>failedFuture(err)))
              .map(m -> created(user, m, before, now)));
    } else {
      // ownership was checked with the retry look-up; the pair goes first, so that identical sends
      // refused by a limit meanwhile find it as soon as possible (refusedUnlessStored)
      stored = insertBoth(user, reply, userId, sessionId, clientMessageId, cap)
          .compose(m -> touchSession.get().compose(before -> before != null
              ? Future.succeededFuture(created(user, m, before, now))
              : mongo.removeDocuments(MESSAGES, new JsonObject().put("_id", new JsonObject().put("$in",
                      new JsonArray().add(user.getValue("_id")).add(oid(m.id())))))
                  .compose(r -> sessionNotFound())));
    }
    return stored
        .recover(err -> clientMessageId != null && MongoFailures.isDuplicateKey(err)
            ? findPair(userId, sessionId, clientMessageId).compose(this::requirePair)
            : Future.failedFuture(err));
  }

  /** Publishes a stored send: the question, its reply, then the session as the send left it. */
  private SendResult created(JsonObject user, ChatMessage stored, JsonObject before, Instant now) {
    ChatMessage question = MongoDocs.message(user);
    publishMessage(MessageEvent.CREATED, question);
    publishMessage(MessageEvent.CREATED, stored);
    JsonObject after = before.copy()
        .put("lastMessageAt", date(now)).put("updatedAt", date(now))
        .put("messageCount", before.getLong("messageCount", 0L) + 2);
    publishSession(SessionEvent.UPDATED, MongoDocs.session(after));
    return new SendResult(question, stored, true);
  }

  /**
   * Both documents in one ordered insert. A duplicate key on the placeholder only (its pending slot is
   * taken) leaves the question stored: the placeholder then goes to a free slot, or the question is
   * removed again.
   */
  private Future<ChatMessage> insertBoth(JsonObject user, JsonObject reply, String userId, String sessionId,
      String clientMessageId, int cap) {
    List<BulkOperation> ops = List.of(BulkOperation.createInsert(user), BulkOperation.createInsert(reply));
    return mongo.bulkWriteWithOptions(MESSAGES, ops, new BulkWriteOptions().setOrdered(true))
        .map(r -> MongoDocs.message(reply))
        .recover(err -> {
          String userMessageId = MongoDocs.id(user.getValue("_id"));
          if (err instanceof com.mongodb.MongoBulkWriteException bulk
              && bulk.getWriteErrors().stream().anyMatch(e -> e.getIndex() == 0)) {
            return Future.failedFuture(err); // the question was not stored (e.g. a concurrent identical send)
          }
          if (cap <= 0 || !placeholderOnlyFailed(err)) {
            return removeUnanswered(userMessageId, err);
          }
          Instant createdAt = MongoDocs.instant(user.getValue("createdAt"));
          return admission.freeSlots(userId, new SendLimits(-1, null, 0, cap))
              .compose(slots -> insertReply(userId, sessionId, userMessageId, createdAt, clientMessageId, slots, 0))
              .recover(e -> removeUnanswered(userMessageId, e));
        });
  }

  /** True when an ordered insert stored the question and failed on the placeholder with a duplicate key. */
  private static boolean placeholderOnlyFailed(Throwable err) {
    return err instanceof com.mongodb.MongoBulkWriteException bulk
        && bulk.getWriteErrors().size() == 1
        && bulk.getWriteErrors().get(0).getIndex() == 1
        && bulk.getWriteErrors().get(0).getCode() == MongoFailures.DUPLICATE_KEY;
  }

  /**
   * Takes a send's session change back (it stored no pair): the count always, the times when no later
   * write changed them meanwhile. Best effort.
   */
  private Future<Void> untouch(JsonObject before, Instant at) {
    JsonObject filter = new JsonObject().put("_id", before.getValue("_id")).put("userId", before.getValue("userId"));
    JsonObject count = new JsonObject().put("$inc", new JsonObject().put("messageCount", -2));
    JsonObject times = new JsonObject().put("updatedAt", before.getValue("updatedAt"));
    JsonObject restore = count.copy().put("$set", times);
    if (before.getValue("lastMessageAt") != null) {
      times.put("lastMessageAt", before.getValue("lastMessageAt"));
    } else {
      restore.put("$unset", new JsonObject().put("lastMessageAt", ""));
    }
    return mongo.updateCollectionWithOptions(SESSIONS, filter.copy().put("updatedAt", date(at)), restore,
            new io.vertx.ext.mongo.UpdateOptions())
        .compose(r -> r.getDocMatched() > 0
            ? Future.succeededFuture()
            : mongo.updateCollection(SESSIONS, filter, count).mapEmpty())
        .<Void>mapEmpty()
        .recover(e -> {
          log.warn("session {}: not taken back after a failed send: {}", MongoDocs.id(before.getValue("_id")), e.toString());
          return Future.succeededFuture();
        });
  }

  private JsonObject replyDoc(String userId, String sessionId, String userMessageId, Instant createdAt,
      String clientMessageId, String slot) {
    JsonObject reply = messageDoc(newId(), userId, sessionId, AI_REPORT, PENDING, "", createdAt)
        .put("replyTo", oid(userMessageId));
    if (clientMessageId != null) {
      reply.put("clientMessageKey", replyKey(sessionId, clientMessageId));
    }
    if (slot != null) {
      reply.put(MongoSendAdmission.PENDING_SLOT, slot);
    }
    return reply;
  }

  /** The placeholder of a user message could not be stored: remove the question too, keep the error. */
  private Future<ChatMessage> removeUnanswered(String userMessageId, Throwable err) {
    return mongo.removeDocument(MESSAGES, new JsonObject().put("_id", oid(userMessageId)))
        .recover(removeErr -> {
          log.warn("user message {} without a reply left behind: {}", userMessageId, removeErr.toString());
          return Future.succeededFuture();
        })
        .compose(x -> Future.failedFuture(err));
  }

  /**
   * Inserts the pending placeholder (publishing nothing). With a client id it carries its own unique
   * key, so that however many concurrent retries try to write it, one placeholder exists per user
   * message. With {@code slots} it carries {@code slots[next]}; a duplicate key there means a
   * concurrent send took that slot, so the next one is tried.
   */
  private Future<ChatMessage> insertReply(
      String userId, String sessionId, String userMessageId, Instant createdAt, String clientMessageId,
      List<String> slots, int next) {
    if (slots != null && next >= slots.size()) {
      return MongoSendAdmission.tooManyPending(slots.size());
    }
    JsonObject reply = replyDoc(userId, sessionId, userMessageId, createdAt, clientMessageId,
        slots == null ? null : slots.get(next));
    return mongo
        .insert(MESSAGES, reply)
        .map(x -> MongoDocs.message(reply))
        .recover(err -> slots != null && MongoFailures.isDuplicateKey(err)
            ? insertReply(userId, sessionId, userMessageId, createdAt, clientMessageId, slots, next + 1)
            : Future.failedFuture(err));
  }

  private Future<SendResult> requirePair(SendResult pair) {
    return pair == null
        ? Future.failedFuture(ErrorCode.INTERNAL.failure("internal error"))
        : Future.succeededFuture(pair);
  }

  /** The stored pair of an earlier send with this client id, or null. */
  private Future<SendResult> findPair(String userId, String sessionId, String clientMessageId) {
    JsonObject query =
        new JsonObject()
            .put("clientMessageKey", userMessageKey(sessionId, clientMessageId))
            .put("userId", oid(userId));
    return mongo
        .findOne(MESSAGES, query, null)
        .compose(user -> user == null
            ? Future.succeededFuture(null)
            : replyOf(userId, sessionId, MongoDocs.message(user), clientMessageId, PAIR_WAIT_TRIES)
                .map(reply -> new SendResult(MongoDocs.message(user), reply, false)));
  }

  /**
   * The placeholder of a stored user message. A concurrent first send may still be writing it, so a
   * young user message without one is re-read a few times; an old one (its send died between the two
   * inserts) gets its placeholder now.
   */
  private Future<ChatMessage> replyOf(
      String userId, String sessionId, ChatMessage user, String clientMessageId, int triesLeft) {
    // The placeholder of an idempotent send carries its own unique key: one index lookup, whatever
    // the length of the session.
    JsonObject query =
        new JsonObject()
            .put("clientMessageKey", replyKey(sessionId, clientMessageId))
            .put("replyTo", oid(user.id()));
    return mongo.findOne(MESSAGES, query, null).compose(reply -> {
      if (reply != null) {
        return Future.succeededFuture(MongoDocs.message(reply));
      }
      boolean sendMayBeInFlight = user.createdAt().isAfter(now().minus(PAIR_IN_FLIGHT));
      if (sendMayBeInFlight && triesLeft > 0) {
        return vertx.timer(PAIR_WAIT_MS, TimeUnit.MILLISECONDS)
            .compose(t -> replyOf(userId, sessionId, user, clientMessageId, triesLeft - 1));
      }
      // Repairs are rare (a crash between the two inserts) and the quota unit was taken by that send,
      // so the repaired placeholder takes no pending slot. A question removed again (its send lost the
      // race for the last slot) is not repaired.
      return mongo.findOne(MESSAGES, new JsonObject().put("_id", oid(user.id())), new JsonObject().put("_id", 1))
          .compose(still -> still == null
              ? Future.<ChatMessage>failedFuture(ErrorCode.CONFLICT.failure("the earlier send was not stored; send again"))
              : insertReply(userId, sessionId, user.id(), user.createdAt(), clientMessageId, null, 0))
          .onSuccess(m -> publishMessage(MessageEvent.CREATED, m))
          .compose(m -> touchSession(userId, sessionId, user.createdAt()).map(m))
          .recover(err -> MongoFailures.isDuplicateKey(err)
              ? mongo.findOne(MESSAGES, query, null).map(MongoDocs::message)
              : Future.failedFuture(err));
    });
  }

  private Future<Void> touchSession(String userId, String sessionId, Instant at) {
    JsonObject update =
        new JsonObject()
            .put("$set", new JsonObject().put("lastMessageAt", date(at)).put("updatedAt", date(now())))
            .put("$inc", new JsonObject().put("messageCount", 2));
    return findAndUpdate(SESSIONS, owned(sessionId, userId), update)
        .onSuccess(doc -> {
          if (doc != null) {
            publishSession(SessionEvent.UPDATED, MongoDocs.session(doc));
          }
        })
        .mapEmpty();
  }
}
