package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.Page;
import com.aichat.contract.SessionEvent;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.StoreChanges;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Conversations} on MongoDB through vertx-mongo-client: collections {@value #SESSIONS} and
 * {@value #MESSAGES} with the seed's field names and real BSON types. Each method's semantics are
 * those documented on {@link Conversations}; each committed write is reported to {@link StoreChanges}
 * (never to the event bus: docs/architecture.md §8).
 *
 * <p>Idempotent sends use the unique sparse index on {@code clientMessageKey}
 * ({@code u:<chatSessionId>:<clientMessageId>} on the user message, {@code r:...} on its placeholder;
 * set only when the send carries a {@code clientMessageId}). A compound sparse index on
 * {@code (chatSessionId, clientMessageId)} would index every message (a sparse compound index skips
 * only documents missing all of its fields), so the second message without a client id would
 * collide.
 */
public final class MongoChatStore extends MongoSessionStore {

  private static final Logger log = LoggerFactory.getLogger(MongoChatStore.class);

  /** Collection of sessions (Mongoose's name for the ChatSession model). */
  public static final String SESSIONS = "chatsessions";
  /** Collection of messages (the PromptHistory model). */
  public static final String MESSAGES = "prompthistories";

  static final int MAX_PAGE = 100;

  /** How long after a send its placeholder may still be on its way (see {@link #replyOf}). */
  private static final java.time.Duration PAIR_IN_FLIGHT = java.time.Duration.ofSeconds(5);
  private static final long PAIR_WAIT_MS = 50;
  private static final int PAIR_WAIT_TRIES = 100;



  private final MongoGenerationStore generations;
  private final MongoSendAdmission admission;
  private final MongoUsageLedger ledger;
  private final MongoSearch search;
  private final MongoMessageControls controls;

  /** Stored fields of a message that are the store's own bookkeeping, never exported. */
  private static final java.util.Set<String> INTERNAL_FIELDS = java.util.Set.of(
      "_id", "chatSessionId", "leaseOwner", "leaseUntil", "notBefore", "cancelRequested", "lastError",
      "clientMessageKey", MongoSendAdmission.PENDING_SLOT, MongoUsageLedger.MARKER);

  /** Built with the rest of the store by {@link MongoStores}. */
  MongoChatStore(Vertx vertx, MongoClient mongo, Clock clock, MongoUsageLedger ledger, MongoGenerationStore generations,
      StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    this.ledger = ledger;
    this.generations = generations;
    this.admission = new MongoSendAdmission(mongo, clock);
    this.search = new MongoSearch(vertx, mongo);
    this.controls = new MongoMessageControls(vertx, mongo, clock, admission, changes);
  }

  // ---- messages -------------------------------------------------------------------------------

  @Override
  public Future<SendResult> sendMessage(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    if (content == null) {
      return invalid("content is required");
    }
    SendLimits l = limits == null ? SendLimits.NONE : limits;
    // A retry is recognised before any limit is looked at: it neither counts nor can be refused.
    return ownedSession(userId, sessionId)
        .compose(s -> clientMessageId == null
            ? Future.<SendResult>succeededFuture(null)
            : findPair(userId, sessionId, clientMessageId))
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
   * A free pending slot (read only), then one unit of the daily quota, then the pair. Whatever stops
   * the pair from being stored after the unit was taken gives the unit back.
   */
  private Future<SendResult> admitAndInsert(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    return admission.freeSlots(userId, limits)
        .compose(slots -> admission.reserveQuota(userId, limits)
            .compose(unit -> insertPair(userId, sessionId, content, clientMessageId, slots)
                .compose(r -> r.created() ? Future.succeededFuture(r) : refundQuietly(unit).map(r))
                .recover(err -> refundQuietly(unit).compose(v -> Future.<SendResult>failedFuture(err)))));
  }

  private Future<Void> refundQuietly(MongoSendAdmission.QuotaUnit unit) {
    return admission.refund(unit).recover(err -> {
      log.warn("quota unit {} not given back: {}", unit.counterId(), err.toString());
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<SendResult> findSend(String userId, String sessionId, String clientMessageId) {
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
   * Inserts the user message, then its placeholder (so ObjectId order matches), then bumps the session.
   * {@code message.created} is published for the question, then for its reply, once both are stored,
   * so clients that append messages as they arrive see the question before its reply. With
   * {@code slots} (the pending cap is on) the placeholder takes the first of them still free; when a
   * concurrent send took them all, the user message is removed again and the send fails
   * TOO_MANY_PENDING.
   */
  private Future<SendResult> insertPair(
      String userId, String sessionId, String content, String clientMessageId, List<String> slots) {
    Instant now = now();
    JsonObject user = messageDoc(newId(), userId, sessionId, USER, COMPLETED, content, now);
    if (clientMessageId != null) {
      user.put("clientMessageId", clientMessageId)
          .put("clientMessageKey", userMessageKey(sessionId, clientMessageId));
    }
    String userMessageId = MongoDocs.id(user.getValue("_id"));
    return mongo
        .insert(MESSAGES, user)
        .compose(x -> insertReply(userId, sessionId, userMessageId, now, clientMessageId, slots, 0)
            .recover(err -> removeUnanswered(userMessageId, err)))
        .map(reply -> {
          ChatMessage question = MongoDocs.message(user);
          publishMessage(MessageEvent.CREATED, question);
          publishMessage(MessageEvent.CREATED, reply);
          return new SendResult(question, reply, true);
        })
        .compose(r -> touchSession(userId, sessionId, now).map(r))
        .recover(err -> clientMessageId != null && MongoFailures.isDuplicateKey(err)
            ? findPair(userId, sessionId, clientMessageId).compose(this::requirePair)
            : Future.failedFuture(err));
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
    JsonObject reply = messageDoc(newId(), userId, sessionId, AI_REPORT, PENDING, "", createdAt)
        .put("replyTo", oid(userMessageId));
    if (clientMessageId != null) {
      reply.put("clientMessageKey", replyKey(sessionId, clientMessageId));
    }
    if (slots != null) {
      reply.put(MongoSendAdmission.PENDING_SLOT, slots.get(next));
    }
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

  @Override
  public Future<Page<ChatMessage>> listMessages(
      String userId, String sessionId, String after, String before, int limit) {
    if (after != null && before != null) {
      return invalid("give at most one of after and before");
    }
    int size = clampLimit(limit);
    String token = after != null ? after : before;
    return ownedSession(userId, sessionId)
        .compose(s -> token == null ? Future.succeededFuture(null) : resolvePosition(userId, sessionId, token))
        .compose(key -> pageOfMessages(userId, sessionId, key, before == null, size))
        .recover(err -> MongoFailures.classify("listMessages", err));
  }

  /** A cursor of ours, or the id of a message of this session. */
  private Future<SortKey> resolvePosition(String userId, String sessionId, String token) {
    SortKey key = MongoDocs.decodeCursor(token);
    if (key != null) {
      return Future.succeededFuture(key);
    }
    if (!isId(token)) {
      return invalid("cursor is not valid");
    }
    JsonObject query = owned(token, userId).put("chatSessionId", oid(sessionId));
    return mongo
        .findOne(MESSAGES, query, new JsonObject().put("createdAt", 1))
        .compose(doc -> doc == null
            ? invalid("cursor is not valid")
            : Future.succeededFuture(new SortKey(MongoDocs.instant(doc.getValue("createdAt")), token)));
  }

  private Future<Page<ChatMessage>> pageOfMessages(
      String userId, String sessionId, SortKey key, boolean forward, int size) {
    return documentsBeyond(userId, sessionId, key, forward, size + 1).map(docs -> messagePage(docs, size, forward));
  }

  private static Page<ChatMessage> messagePage(List<JsonObject> docs, int size, boolean forward) {
    List<ChatMessage> items = new ArrayList<>(docs.stream().limit(size).map(MongoDocs::message).toList());
    String next = null;
    if (docs.size() > size) {
      ChatMessage edge = items.get(items.size() - 1);
      next = MongoDocs.encodeCursor(edge.createdAt(), edge.id());
    }
    if (!forward) {
      Collections.reverse(items);
    }
    return new Page<>(List.copyOf(items), next);
  }

  @Override
  public Future<ChatMessage> getMessage(String userId, String sessionId, String messageId) {
    return ownedMessage(userId, sessionId, messageId)
        .map(MongoDocs::message)
        .recover(err -> MongoFailures.classify("getMessage", err));
  }

  // ---- history: export, usage ledger, search ---------------------------------------------------

  @Override
  public Future<Page<JsonObject>> listMessageDocuments(String userId, String sessionId, String after, int limit) {
    int size = clampLimit(limit);
    return ownedSession(userId, sessionId)
        .compose(s -> after == null ? Future.succeededFuture(null) : resolvePosition(userId, sessionId, after))
        .compose(key -> documentsAfter(userId, sessionId, key, size + 1))
        .map(docs -> {
          List<JsonObject> items = docs.stream().limit(size).map(MongoChatStore::exported).toList();
          String next = null;
          if (docs.size() > size) {
            JsonObject edge = docs.get(size - 1);
            next = MongoDocs.encodeCursor(MongoDocs.instant(edge.getValue("createdAt")), MongoDocs.id(edge.getValue("_id")));
          }
          return new Page<>(items, next);
        })
        .recover(err -> MongoFailures.classify("listMessageDocuments", err));
  }

  private Future<List<JsonObject>> documentsAfter(String userId, String sessionId, SortKey key, int n) {
    return documentsBeyond(userId, sessionId, key, true, n);
  }

  /**
   * Up to {@code n} messages after (or, backwards, before) {@code key} in {@code (createdAt, _id)}
   * order: two sorted walks of {@code chatSessionId_createdAt_id} ({@link SortedWalk}), so every page,
   * of a listing or an export, reads about a page of documents, however long the session.
   */
  private Future<List<JsonObject>> documentsBeyond(String userId, String sessionId, SortKey key, boolean forward,
      int n) {
    JsonObject base = new JsonObject().put("chatSessionId", oid(sessionId)).put("userId", oid(userId));
    return SortedWalk.beyond(mongo, MESSAGES, base, key, null, forward, n);
  }

  /** The REST form of a stored message plus every non-internal field it has, in plain JSON. */
  private static JsonObject exported(JsonObject doc) {
    JsonObject out = MongoDocs.message(doc).toJson();
    for (String field : doc.fieldNames()) {
      if (!INTERNAL_FIELDS.contains(field) && !out.containsKey(field)) {
        out.put(field, MongoDocs.plain(doc.getValue(field)));
      }
    }
    return out;
  }

  @Override
  public Future<List<UsageEntry>> readUsage(String userId, String from, String to) {
    if (!isId(userId)) {
      return invalid("userId must be a 24-hex id");
    }
    return ledger.read(userId, from, to).recover(err -> MongoFailures.classify("readUsage", err));
  }

  @Override
  public Future<Page<SearchHit>> search(String userId, String query, int limit, String cursor, SearchBudget budget) {
    return search.search(userId, query, limit, cursor, budget).recover(err -> MongoFailures.classify("search", err));
  }

  // ---- versions, feedback, cancel (MongoMessageControls, MongoGenerationStore) ------------------

  @Override
  public Future<SendResult> regenerateReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits, int maxVersions) {
    return controls.regenerate(userId, sessionId, messageId, clientMessageId, limits, maxVersions);
  }

  @Override
  public Future<SendResult> continueReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits,
      int maxContinues) {
    return controls.continueReply(userId, sessionId, messageId, clientMessageId, limits, maxContinues);
  }

  @Override
  public Future<SendResult> editMessage(
      String userId, String sessionId, String messageId, String content, String clientMessageId,
      SendLimits limits, int maxVersions) {
    return controls.editMessage(userId, sessionId, messageId, content, clientMessageId, limits, maxVersions);
  }

  @Override
  public Future<ChatMessage> setFeedback(
      String userId, String sessionId, String messageId, String rating, String comment) {
    return controls.setFeedback(userId, sessionId, messageId, rating, comment);
  }

  @Override
  public Future<ChatMessage> requestCancel(String userId, String sessionId, String messageId) {
    return generations.requestCancel(userId, sessionId, messageId);
  }

  @Override
  public Future<List<ChatMessage>> findActiveReplies(String userId, String sessionId) {
    return ownedSession(userId, sessionId)
        .compose(s -> mongo.findWithOptions(
            MESSAGES,
            new JsonObject()
                .put("chatSessionId", oid(sessionId))
                .put("userId", oid(userId))
                .put("messageType", AI_REPORT)
                .put("status", new JsonObject().put("$in", new JsonArray().add(PENDING).add(PROCESSING))),
            new FindOptions().setSort(new JsonObject().put("createdAt", 1).put("_id", 1))))
        .map(docs -> docs.stream().map(MongoDocs::message).toList())
        .recover(err -> MongoFailures.classify("findActiveReplies", err));
  }
}
