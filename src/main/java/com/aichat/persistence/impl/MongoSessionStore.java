package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.contract.SessionEvent;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.StoreChanges;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;


/**
 * The sessions half of {@link Conversations} on MongoDB: creating, listing, renaming and deleting
 * sessions, and the two lookups outside the conversation (the subscription's user field, the health
 * count). {@link MongoChatStore} completes it with the messages.
 */
abstract class MongoSessionStore extends MongoStoreSupport implements Conversations {

  private static final Pattern COLLECTION_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.-]{0,119}");
  private static final Pattern FIELD_PATH = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

  MongoSessionStore(Vertx vertx, MongoClient mongo, Clock clock, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
  }

  // ---- sessions -------------------------------------------------------------------------------

  @Override
  public Future<ChatSession> createSession(String userId, String teamId, String title) {
    if (!isId(userId)) {
      return invalid("userId must be a 24-hex id");
    }
    if (teamId != null && !isId(teamId)) {
      return invalid("teamId must be a 24-hex id");
    }
    if (title != null && title.isBlank()) {
      return invalid("title must not be blank");
    }
    Instant now = now();
    JsonObject doc = new JsonObject().put("_id", oid(newId())).put("userId", oid(userId));
    if (teamId != null) {
      doc.put("teamId", oid(teamId));
    }
    doc.put("title", title == null ? DEFAULT_TITLE : title)
        .put("titleSource", title == null ? ChatSession.TITLE_DEFAULT : ChatSession.TITLE_USER)
        .put("createdAt", date(now))
        .put("updatedAt", date(now))
        .put("messageCount", 0L);
    return mongo
        .insert(SESSIONS, doc)
        .map(x -> MongoDocs.session(doc))
        .onSuccess(s -> publishSession(SessionEvent.CREATED, s))
        .recover(err -> MongoFailures.classify("createSession", err));
  }

  @Override
  public Future<Page<ChatSession>> listSessions(String userId, String teamId, int limit, String cursor) {
    if (!isId(userId)) {
      return invalid("userId must be a 24-hex id");
    }
    if (teamId != null && !isId(teamId)) {
      return invalid("teamId must be a 24-hex id");
    }
    int size = clampLimit(limit);
    JsonObject query = new JsonObject().put("userId", oid(userId));
    if (teamId != null) {
      query.put("teamId", oid(teamId));
    }
    SortKey key = null;
    if (cursor != null) {
      key = MongoDocs.decodeCursor(cursor);
      if (key == null) {
        return invalid("cursor is not valid");
      }
    }
    // newest first from the cursor: about a page of documents however many sessions (SortedWalk)
    return SortedWalk.beyond(mongo, SESSIONS, query, "updatedAt", key, null, false, size + 1)
        .map(docs -> sessionPage(docs, size))
        .recover(err -> MongoFailures.classify("listSessions", err));
  }

  private static Page<ChatSession> sessionPage(List<JsonObject> docs, int size) {
    List<ChatSession> items = docs.stream().limit(size).map(MongoDocs::session).toList();
    String next = null;
    if (docs.size() > size) {
      ChatSession last = items.get(items.size() - 1);
      next = MongoDocs.encodeCursor(last.updatedAt(), last.id());
    }
    return new Page<>(items, next);
  }

  @Override
  public Future<ChatSession> getSession(String userId, String sessionId) {
    return ownedSession(userId, sessionId)
        .map(MongoDocs::session)
        .recover(err -> MongoFailures.classify("getSession", err));
  }

  @Override
  public Future<ChatSession> renameSession(String userId, String sessionId, String title) {
    if (title == null || title.isBlank()) {
      return invalid("title is required");
    }
    if (!isId(userId) || !isId(sessionId)) {
      return sessionNotFound();
    }
    JsonObject update =
        new JsonObject().put("$set", new JsonObject()
            .put("title", title)
            .put("titleSource", ChatSession.TITLE_USER)
            .put("updatedAt", date(now())));
    return findAndUpdate(SESSIONS, owned(sessionId, userId), update)
        .compose(doc -> doc == null ? sessionNotFound() : Future.succeededFuture(MongoDocs.session(doc)))
        .onSuccess(s -> publishSession(SessionEvent.UPDATED, s))
        .recover(err -> MongoFailures.classify("renameSession", err));
  }

  @Override
  public Future<Void> deleteSession(String userId, String sessionId) {
    return ownedSession(userId, sessionId)
        .compose(s -> mongo.removeDocuments(
            MESSAGES, new JsonObject().put("chatSessionId", oid(sessionId)).put("userId", oid(userId))))
        .compose(r -> mongo.removeDocuments(SESSIONS, owned(sessionId, userId)))
        .<Void>mapEmpty()
        .onSuccess(v -> changes.sessionDeleted(userId, sessionId))
        .recover(err -> MongoFailures.classify("deleteSession", err));
  }

  // ---- lookups -------------------------------------------------------------------------------

  @Override
  public Future<Long> countUserMessagesSince(String userId, Instant since) {
    if (!isId(userId)) {
      return invalid("userId must be a 24-hex id");
    }
    if (since == null) {
      return invalid("since is required");
    }
    JsonObject query =
        new JsonObject()
            .put("userId", oid(userId))
            .put("messageType", USER)
            .put("createdAt", new JsonObject().put("$gte", date(since)));
    return mongo
        .count(MESSAGES, query)
        .recover(err -> MongoFailures.classify("countUserMessagesSince", err));
  }

  @Override
  public Future<JsonObject> lookupUserField(
      String collection, String idField, String userId, String fieldPath) {
    if (collection == null
        || !COLLECTION_NAME.matcher(collection).matches()
        || collection.startsWith("system.")) {
      return invalid("collection name is not valid");
    }
    if (idField == null || !FIELD_PATH.matcher(idField).matches()
        || fieldPath == null || !FIELD_PATH.matcher(fieldPath).matches()) {
      return invalid("field path is not valid");
    }
    if (!isId(userId)) {
      return Future.succeededFuture(new JsonObject().put("found", false).putNull("value"));
    }
    return mongo
        .findOne(collection, new JsonObject().put(idField, oid(userId)), new JsonObject().put(fieldPath, 1))
        .map(doc -> doc == null
            ? new JsonObject().put("found", false).putNull("value")
            : new JsonObject().put("found", true).put("value", valueAt(doc, fieldPath)))
        .recover(err -> MongoFailures.classify("lookupUserField", err));
  }

  private static Object valueAt(JsonObject doc, String path) {
    Object current = doc;
    for (String part : path.split("\\.")) {
      if (!(current instanceof JsonObject o)) {
        return null;
      }
      current = o.getValue(part);
    }
    return current;
  }
}
