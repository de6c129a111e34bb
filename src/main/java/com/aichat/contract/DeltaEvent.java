package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A coalesced streaming delta on {@link Addresses#EVENTS_DELTA}. {@code seq} counts deltas of one
 * generation attempt from 1; {@code offset} is the character offset of {@code text} in the reply, so
 * {@code offset + text.length()} is the length of the text so far. A client appends a delta only when
 * its offset equals the length it holds.
 *
 * <p>{@code attempt} is the reply's {@code attempts} when the worker's claim started the stream (0 when
 * unknown): a fencing token. A gateway drops a delta whose attempt is older than the attempt it last
 * announced to a socket ({@code message.processing}), so a worker that lost its lease without knowing
 * it (paused, cut off from the cluster) cannot mix its text into another worker's stream.
 */
public record DeltaEvent(
    String userId, String sessionId, String messageId, long seq, long offset, String text, int attempt) {

  /** A delta of an unknown attempt (0), which no gateway fences. */
  public DeltaEvent(String userId, String sessionId, String messageId, long seq, long offset, String text) {
    this(userId, sessionId, messageId, seq, offset, text, 0);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("userId", userId)
        .put("sessionId", sessionId)
        .put("messageId", messageId)
        .put("seq", seq)
        .put("offset", offset)
        .put("text", text);
    return attempt > 0 ? o.put("attempt", attempt) : o;
  }

  public static DeltaEvent fromJson(JsonObject o) {
    return new DeltaEvent(
        o.getString("userId"),
        o.getString("sessionId"),
        o.getString("messageId"),
        o.getLong("seq"),
        o.getLong("offset"),
        o.getString("text"),
        o.getInteger("attempt", 0));
  }
}
