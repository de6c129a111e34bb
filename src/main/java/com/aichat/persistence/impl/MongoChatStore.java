package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@link Conversations} on MongoDB through vertx-mongo-client: collections {@value #SESSIONS} and
 * {@value #MESSAGES} with the seed's field names and real BSON types. Each method's semantics are
 * those documented on {@link Conversations}; each committed write is reported to {@link StoreChanges}
 * (never to the event bus: docs/architecture.md §8).
 */
public final class MongoChatStore extends MongoSessionStore {

  /** Collection of sessions (Mongoose's name for the ChatSession model). */
  public static final String SESSIONS = "chatsessions";
  /** Collection of messages (the PromptHistory model). */
  public static final String MESSAGES = "prompthistories";

  static final int MAX_PAGE = 100;

  private final MongoGenerationStore generations;
  private final MongoSendPath sendPath;
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
    MongoSendAdmission admission = new MongoSendAdmission(mongo, clock);
    this.sendPath = new MongoSendPath(vertx, mongo, clock, admission, changes);
    this.search = new MongoSearch(vertx, mongo);
    this.controls = new MongoMessageControls(vertx, mongo, clock, admission, changes);
  }

  // ---- messages -------------------------------------------------------------------------------

  @Override
  public Future<SendResult> sendMessage(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    return sendPath.sendMessage(userId, sessionId, content, clientMessageId, limits);
  }

  @Override
  public Future<SendResult> findSend(String userId, String sessionId, String clientMessageId) {
    return sendPath.findSend(userId, sessionId, clientMessageId);
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
