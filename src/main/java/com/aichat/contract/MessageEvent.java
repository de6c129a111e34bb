package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A message domain event on {@link Addresses#EVENTS_MESSAGE}. JSON: {@code {type, userId, sessionId,
 * message}} with {@code message} in its REST rendering.
 */
public record MessageEvent(String type, String userId, String sessionId, ChatMessage message) {

  /** A message was stored (user message or pending placeholder). */
  public static final String CREATED = "message.created";
  /**
   * The reply waits for a worker slot; published by the dispatcher as a {@link QueuedEvent}, which has
   * a {@code messageId} and a {@code queue} instead of a {@code message}.
   */
  public static final String QUEUED = "message.queued";
  /** A worker claimed the reply and started generating. */
  public static final String PROCESSING = "message.processing";
  /** The reply is final and completed. */
  public static final String COMPLETED = "message.completed";
  /** The reply failed for good; it is now an {@code ai_error}. */
  public static final String FAILED = "message.failed";
  /**
   * A message changed outside a generation: feedback set or cleared, a user message edited, or a
   * reply sent back to {@code pending} for a new version (regenerate, edit) or a continue.
   */
  public static final String UPDATED = "message.updated";
  /** The reply was cancelled; it keeps its partial text. */
  public static final String CANCELLED = "message.cancelled";

  public JsonObject toJson() {
    return new JsonObject()
        .put("type", type)
        .put("userId", userId)
        .put("sessionId", sessionId)
        .put("message", message.toJson());
  }

  public static MessageEvent fromJson(JsonObject o) {
    return new MessageEvent(
        o.getString("type"),
        o.getString("userId"),
        o.getString("sessionId"),
        ChatMessage.fromJson(o.getJsonObject("message")));
  }
}
