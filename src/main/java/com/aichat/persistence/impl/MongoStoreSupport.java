package com.aichat.persistence.impl;

import com.aichat.persistence.StoreChanges;
import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.bson.types.ObjectId;

/**
 * What the two halves of the Mongo store share: the client, the clock, ownership lookups (scoped by
 * {@code userId}; malformed ids are NOT_FOUND), conditional updates, and reporting committed changes
 * ({@link StoreChanges}; storage never touches the event bus).
 */
abstract class MongoStoreSupport {

  static final String USER = MessageType.USER.wire();
  static final String AI_REPORT = MessageType.AI_REPORT.wire();
  static final String PENDING = MessageStatus.PENDING.wire();
  static final String PROCESSING = MessageStatus.PROCESSING.wire();
  static final String COMPLETED = MessageStatus.COMPLETED.wire();
  static final String CANCELLED = MessageStatus.CANCELLED.wire();

  final Vertx vertx;
  final MongoClient mongo;
  final Clock clock;
  final StoreChanges changes;

  MongoStoreSupport(Vertx vertx, MongoClient mongo, Clock clock, StoreChanges changes) {
    this.vertx = vertx;
    this.mongo = mongo;
    this.clock = clock;
    this.changes = changes;
  }

  Future<JsonObject> findAndUpdate(String collection, JsonObject query, JsonObject update) {
    return mongo.findOneAndUpdateWithOptions(
        collection, query, update, new FindOptions(), new UpdateOptions().setReturningNewDocument(true));
  }

  Future<JsonObject> ownedSession(String userId, String sessionId) {
    if (!isId(userId) || !isId(sessionId)) {
      return sessionNotFound();
    }
    return mongo
        .findOne(SESSIONS, owned(sessionId, userId), null)
        .compose(doc -> doc == null ? sessionNotFound() : Future.succeededFuture(doc));
  }

  Future<JsonObject> ownedMessage(String userId, String sessionId, String messageId) {
    if (!isId(userId) || !isId(sessionId) || !isId(messageId)) {
      return notFound("message not found");
    }
    JsonObject query = owned(messageId, userId).put("chatSessionId", oid(sessionId));
    return mongo
        .findOne(MESSAGES, query, null)
        .compose(doc -> doc == null ? notFound("message not found") : Future.succeededFuture(doc));
  }

  static JsonObject owned(String id, String userId) {
    return new JsonObject().put("_id", oid(id)).put("userId", oid(userId));
  }

  static JsonObject messageDoc(
      String id, String userId, String sessionId, String type, String status, String content, Instant at) {
    return new JsonObject()
        .put("_id", oid(id))
        .put("userId", oid(userId))
        .put("chatSessionId", oid(sessionId))
        .put("messageType", type)
        .put("content", content)
        .put("status", status)
        .put("attempts", 0)
        .put("createdAt", date(at))
        .put("updatedAt", date(at));
  }

  static String userMessageKey(String sessionId, String clientMessageId) {
    return "u:" + sessionId + ":" + clientMessageId;
  }

  static String replyKey(String sessionId, String clientMessageId) {
    return "r:" + sessionId + ":" + clientMessageId;
  }

  static JsonObject and(JsonObject a, JsonObject b) {
    return new JsonObject().put("$and", new JsonArray().add(a).add(b));
  }

  static void putIfPresent(JsonObject o, String key, Object value) {
    if (value != null) {
      o.put(key, value);
    }
  }

  static int clampLimit(int limit) {
    return Math.max(1, Math.min(MongoChatStore.MAX_PAGE, limit));
  }

  /** Millisecond precision: what a BSON date holds, so returned values equal stored ones. */
  Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  static String newId() {
    return new ObjectId().toHexString();
  }

  /** Reports a committed session change to the service layer ({@link StoreChanges}). */
  void publishSession(String type, ChatSession s) {
    changes.session(type, s);
  }

  /** Reports a committed message change to the service layer ({@link StoreChanges}). */
  void publishMessage(String type, ChatMessage m) {
    changes.message(type, m);
  }

  static <T> Future<T> invalid(String message) {
    return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure(message));
  }

  static <T> Future<T> notFound(String message) {
    return Future.failedFuture(ErrorCode.NOT_FOUND.failure(message));
  }

  static <T> Future<T> sessionNotFound() {
    return notFound("session not found");
  }
}
