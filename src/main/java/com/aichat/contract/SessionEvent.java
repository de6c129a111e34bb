package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * A session domain event on {@link Addresses#EVENTS_SESSION}. JSON: {@code {type, userId, sessionId,
 * session?}}; {@code session} is absent for {@code session.deleted}.
 */
public record SessionEvent(String type, String userId, String sessionId, ChatSession session) {

  public static final String CREATED = "session.created";
  public static final String UPDATED = "session.updated";
  public static final String DELETED = "session.deleted";

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("type", type).put("userId", userId).put("sessionId", sessionId);
    return Json.putOpt(o, "session", session == null ? null : session.toJson());
  }

  public static SessionEvent fromJson(JsonObject o) {
    JsonObject s = o.getJsonObject("session");
    return new SessionEvent(
        o.getString("type"),
        o.getString("userId"),
        o.getString("sessionId"),
        s == null ? null : ChatSession.fromJson(s));
  }
}
