package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A coalesced streaming delta on {@link Addresses#EVENTS_DELTA}. {@code seq} counts deltas of one
 * generation attempt from 1; {@code offset} is the character offset of {@code text} in the reply, so
 * {@code offset + text.length()} is the length of the text so far. A client appends a delta only when
 * its offset equals the length it holds.
 */
public record DeltaEvent(
    String userId, String sessionId, String messageId, long seq, long offset, String text) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("userId", userId)
        .put("sessionId", sessionId)
        .put("messageId", messageId)
        .put("seq", seq)
        .put("offset", offset)
        .put("text", text);
  }

  public static DeltaEvent fromJson(JsonObject o) {
    return new DeltaEvent(
        o.getString("userId"),
        o.getString("sessionId"),
        o.getString("messageId"),
        o.getLong("seq"),
        o.getLong("offset"),
        o.getString("text"));
  }
}
