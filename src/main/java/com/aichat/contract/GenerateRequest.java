package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * The JSON body of an {@link Addresses#AI_GENERATE} request: {@code {messageId, retryInProcess?,
 * outcomeAddress?}}.
 *
 * @param messageId the pending {@code ai_report} placeholder to generate
 * @param retryInProcess true (default): the worker retries retryable provider failures itself, with
 *     backoff, up to {@code worker.max_attempts}; false: it releases the reply to {@code pending} and
 *     ends with outcome {@code retry} so the caller (Cloud Tasks) retries
 * @param outcomeAddress where the worker sends the {@link GenerationOutcome} when the job ends (also
 *     when it answered {@code busy}); null for none
 */
public record GenerateRequest(String messageId, boolean retryInProcess, String outcomeAddress) {

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("messageId", messageId).put("retryInProcess", retryInProcess);
    return Json.putOpt(o, "outcomeAddress", outcomeAddress);
  }

  public static GenerateRequest fromJson(JsonObject o) {
    return new GenerateRequest(
        o.getString("messageId"), o.getBoolean("retryInProcess", true), o.getString("outcomeAddress"));
  }

  /**
   * The worker's immediate answer: {@code {accepted, reason?}}. {@code accepted = true} means the job
   * is now in this worker's hands (it may still end as {@code not_claimed} if another worker holds it);
   * {@code false} with {@code reason = "busy"} means no free slot (instance or per-user cap) and nothing
   * was done: the reply stays {@code pending}.
   */
  public record Answer(boolean accepted, String reason) {

    public static final String BUSY = "busy";

    public JsonObject toJson() {
      return Json.putOpt(new JsonObject().put("accepted", accepted), "reason", reason);
    }

    public static Answer fromJson(JsonObject o) {
      return new Answer(o.getBoolean("accepted", false), o.getString("reason"));
    }
  }
}
