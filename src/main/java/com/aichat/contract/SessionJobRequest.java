package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A session job to run, sent on {@link Addresses#SESSION_JOBS}: {@code {sessionId, kind}}. The
 * persistence service layer sends one when a job it enqueued is due, the dispatcher's sweep when a job was left pending or its lease
 * expired. Delivery is a hint: the worker's atomic claim decides who runs it.
 */
public record SessionJobRequest(String sessionId, SessionJobKind kind) {

  public JsonObject toJson() {
    return new JsonObject().put("sessionId", sessionId).put("kind", kind.wire());
  }

  /** The request, or null when {@code sessionId} or a known {@code kind} is missing. */
  public static SessionJobRequest fromJson(JsonObject o) {
    if (o == null) {
      return null;
    }
    String sessionId = o.getString("sessionId");
    SessionJobKind kind = o.getValue("kind") instanceof String s ? SessionJobKind.fromWire(s) : null;
    return sessionId == null || sessionId.isBlank() || kind == null ? null : new SessionJobRequest(sessionId, kind);
  }
}
