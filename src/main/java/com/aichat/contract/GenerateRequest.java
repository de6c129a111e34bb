package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * The JSON body of an {@link Addresses#AI_GENERATE} (or {@link Addresses#aiWorker}) request:
 * {@code {messageId, userId?, sessionId?, retryInProcess?, outcomeAddress?}}.
 *
 * @param messageId the pending {@code ai_report} placeholder to generate
 * @param userId the reply's owner when the caller knows it (the local dispatcher does): the worker then
 *     checks {@code worker.max_per_user} before the claim, so no attempt is spent on a job it must
 *     refuse; null when unknown
 * @param sessionId the reply's session when the caller knows it (the local dispatcher does, from the
 *     send): the worker's claim then reads the session and its newest history beside the claim, in one
 *     round trip to the store ({@code ChatStore#claimReply}); null when unknown
 * @param retryInProcess true (default): the worker retries retryable provider failures itself, with
 *     backoff, up to {@code worker.max_attempts}; false: it releases the reply to {@code pending} and
 *     ends with outcome {@code retry} so the caller (Cloud Tasks) retries
 * @param outcomeAddress where the worker sends the {@link GenerationOutcome} when the job ends (also
 *     when it answered {@code busy}); null for none
 */
public record GenerateRequest(
    String messageId, String userId, String sessionId, boolean retryInProcess, String outcomeAddress) {

  public GenerateRequest(String messageId, boolean retryInProcess, String outcomeAddress) {
    this(messageId, null, null, retryInProcess, outcomeAddress);
  }

  public GenerateRequest(String messageId, String userId, boolean retryInProcess, String outcomeAddress) {
    this(messageId, userId, null, retryInProcess, outcomeAddress);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("messageId", messageId).put("retryInProcess", retryInProcess);
    Json.putOpt(o, "userId", userId);
    Json.putOpt(o, "sessionId", sessionId);
    return Json.putOpt(o, "outcomeAddress", outcomeAddress);
  }

  public static GenerateRequest fromJson(JsonObject o) {
    return new GenerateRequest(o.getString("messageId"), o.getString("userId"), o.getString("sessionId"),
        o.getBoolean("retryInProcess", true), o.getString("outcomeAddress"));
  }

  /**
   * The worker's immediate answer: {@code {accepted, reason?, workerId?, address?, free?, max?,
   * maxPerUser?}}.
   * {@code accepted = true} means the job is now in this worker's hands (it may still end as
   * {@code not_claimed} if another worker holds it); {@code false} with {@code reason = "busy"} means no
   * free slot, {@code "user_busy"} that the user is at {@code worker.max_per_user} on this instance, and
   * nothing was done: the reply stays {@code pending}. {@code free} is the answering worker's free slots
   * after this answer, {@code max} its {@code worker.max_concurrent}, {@code maxPerUser} its
   * {@code worker.max_per_user}, {@code address} its {@link Addresses#aiWorker} address.
   */
  public record Answer(
      boolean accepted, String reason, String workerId, String address, Integer free, Integer max, Integer maxPerUser) {

    public static final String BUSY = "busy";
    public static final String USER_BUSY = "user_busy";

    public Answer(boolean accepted, String reason) {
      this(accepted, reason, null, null, null, null, null);
    }

    public JsonObject toJson() {
      JsonObject o = Json.putOpt(new JsonObject().put("accepted", accepted), "reason", reason);
      Json.putOpt(o, "workerId", workerId);
      Json.putOpt(o, "address", address);
      Json.putOpt(o, "free", free);
      Json.putOpt(o, "max", max);
      return Json.putOpt(o, "maxPerUser", maxPerUser);
    }

    public static Answer fromJson(JsonObject o) {
      return new Answer(o.getBoolean("accepted", false), o.getString("reason"), o.getString("workerId"),
          o.getString("address"), o.getInteger("free"), o.getInteger("max"), o.getInteger("maxPerUser"));
    }
  }
}
