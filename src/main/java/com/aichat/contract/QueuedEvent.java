package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A reply waits for a free worker slot: published by the local dispatcher on
 * {@link Addresses#EVENTS_MESSAGE} once, when the reply enters its queue (a reply handed to a worker at
 * once gets none). JSON: {@code {type: "message.queued", userId, sessionId, messageId, queue:
 * QueuePosition}}. The gateway forwards it to the session room as {@code message.queued} with the payload
 * {@link #socketPayload()}.
 */
public record QueuedEvent(String userId, String sessionId, String messageId, QueuePosition queue) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("type", MessageEvent.QUEUED)
        .put("userId", userId)
        .put("sessionId", sessionId)
        .put("messageId", messageId)
        .put("queue", queue.toJson());
  }

  public static QueuedEvent fromJson(JsonObject o) {
    return new QueuedEvent(o.getString("userId"), o.getString("sessionId"), o.getString("messageId"),
        QueuePosition.fromJson(o.getJsonObject("queue")));
  }

  /** What a socket receives: {@code {messageId, sessionId, position, queued, expectedStartMs?, expectedStartAt?}}. */
  public JsonObject socketPayload() {
    return new JsonObject().put("messageId", messageId).put("sessionId", sessionId).mergeIn(queue.toJson());
  }
}
