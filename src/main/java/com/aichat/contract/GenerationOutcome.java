package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * How one generation job ended, sent by the AI worker to the {@code outcomeAddress} of an
 * {@link Addresses#AI_GENERATE} request that named one (the Cloud Tasks endpoint does, to answer the
 * task with the right status). JSON: {@code {messageId, outcome, status?, error?}}.
 *
 * <ul>
 *   <li>{@code completed}, {@code failed}, {@code cancelled}: the reply is final;
 *   <li>{@code retry}: a retryable failure; the reply was released to {@code pending} for a later
 *       attempt;
 *   <li>{@code not_claimed}: another worker holds it, or it was already final ({@code status} says
 *       which);
 *   <li>{@code busy}: the worker had no free slot; nothing was done.
 * </ul>
 */
public record GenerationOutcome(String messageId, String outcome, String status, ChatMessage.ErrorInfo error) {

  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";
  public static final String RETRY = "retry";
  public static final String NOT_CLAIMED = "not_claimed";
  public static final String BUSY = "busy";

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("messageId", messageId).put("outcome", outcome);
    Json.putOpt(o, "status", status);
    return Json.putOpt(o, "error", error == null ? null : error.toJson());
  }

  public static GenerationOutcome fromJson(JsonObject o) {
    return new GenerationOutcome(
        o.getString("messageId"),
        o.getString("outcome"),
        o.getString("status"),
        ChatMessage.ErrorInfo.fromJson(o.getJsonObject("error")));
  }
}
