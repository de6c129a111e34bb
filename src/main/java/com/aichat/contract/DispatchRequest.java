package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * The JSON body of an {@link Addresses#DISPATCH} request: {@code {messageId, userId?, sessionId?}}.
 *
 * @param messageId the pending {@code ai_report} placeholder
 * @param userId its owner, when the sender knows it (the HTTP API always does; the recovery sweep does
 *     not). The dispatcher queues by user (round-robin across users) and names the user in the
 *     {@code message.queued} event; a request without it is queued under one shared "unknown" user and
 *     gets no event.
 * @param sessionId its session, when known (the room the {@code message.queued} event goes to)
 */
public record DispatchRequest(String messageId, String userId, String sessionId) {

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("messageId", messageId);
    Json.putOpt(o, "userId", userId);
    return Json.putOpt(o, "sessionId", sessionId);
  }

  public static DispatchRequest fromJson(JsonObject o) {
    return new DispatchRequest(o.getString("messageId"), o.getString("userId"), o.getString("sessionId"));
  }
}
