package com.aichat.contract;

import static com.aichat.contract.Json.instant;
import static com.aichat.contract.Json.iso;
import static com.aichat.contract.Json.putOpt;

import com.aichat.contract.ChatMessage.ErrorInfo;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The state of one session job ({@link SessionJobKind#field()} of the session document), as the store
 * reports it: {@code {status, attempts, dueAt, leaseOwner?, leaseUntil?, lastError?}}.
 *
 * <pre>
 * pending(dueAt) ─claim─► processing(leaseOwner, leaseUntil = dueAt, attempts+1)
 *   ─► completed | skipped | pending(dueAt = retry time, lastError) | failed(lastError)
 * processing with leaseUntil &lt; now ─sweep─► claimed again (the previous worker died)
 * </pre>
 *
 * {@code dueAt} is when the job next needs attention: for a pending job the earliest time it may run,
 * for a processing one the end of its lease. The sweep's index is {@code (status, dueAt)}.
 */
public record SessionJobState(
    String status, int attempts, Instant dueAt, String leaseOwner, Instant leaseUntil, ErrorInfo lastError) {

  public static final String PENDING = "pending";
  public static final String PROCESSING = "processing";
  /** The job ran and its result was written. */
  public static final String COMPLETED = "completed";
  /** The job ran but its result no longer applied (e.g. the user set a title meanwhile). */
  public static final String SKIPPED = "skipped";
  /** The job gave up after its attempts; what it would have changed stays as it was. */
  public static final String FAILED = "failed";

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("status", status).put("attempts", attempts).put("dueAt", iso(dueAt));
    putOpt(o, "leaseOwner", leaseOwner);
    putOpt(o, "leaseUntil", iso(leaseUntil));
    return putOpt(o, "lastError", lastError == null ? null : lastError.toJson());
  }

  public static SessionJobState fromJson(JsonObject o) {
    return o == null
        ? null
        : new SessionJobState(
            o.getString("status"),
            o.getInteger("attempts", 0),
            instant(o, "dueAt"),
            o.getString("leaseOwner"),
            instant(o, "leaseUntil"),
            ErrorInfo.fromJson(o.getJsonObject("lastError")));
  }
}
