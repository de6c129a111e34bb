package com.aichat.persistence;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.contract.SessionJobState;
import com.aichat.persistence.binding.BusAddress;
import com.aichat.persistence.binding.BusProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Session jobs (docs/generation.md, "Session jobs"): enqueue, the lease-guarded claim, renew and ends,
 * and the history range the summary job folds. The session-job runner's interface
 * ({@code jobs.SessionJobRunner} and its handlers); the worker enqueues the summary job through it.
 *
 * <p>Ids are 24-hex strings. Failures are {@link com.aichat.contract.ServiceFailure}s carrying an
 * {@link com.aichat.contract.ErrorCode}; an unreachable database is {@code UNAVAILABLE}. Domain events are
 * published after each committed write by the persistence service layer (see {@link StoreChanges} and
 * {@link Addresses}). Served on the bus by the generic binding ({@link BusAddress}): a method's name is
 * its action, its parameters travel by name, its result by its declared type; adding an operation is
 * declaring it here and implementing it (docs/architecture.md §8).
 */
@BusAddress(Addresses.JOBS)
public interface Jobs {

  /** The Jobs of the store over the event bus, requests timing out after {@link BusProxy#DEFAULT_TIMEOUT_MS}. */
  static Jobs client(Vertx vertx) {
    return BusProxy.create(vertx, Jobs.class);
  }

  /**
   * Creates a {@code pending} job of {@code kind} on the session, due now, unless the session already
   * has one of that kind (in any state) or the kind's precondition fails ({@code title}: the title is
   * still the default one). When it was created, a {@link SessionJobRequest} is sent on
   * {@link com.aichat.contract.Addresses#SESSION_JOBS}. Replies whether it was created; an unknown
   * session is {@code NOT_FOUND}.
   */
  Future<Boolean> enqueueSessionJob(String sessionId, SessionJobKind kind);

  /**
   * Atomically claims the session's job of {@code kind} for {@code workerId} with a lease of
   * {@code leaseMillis}: one {@code findOneAndUpdate} matching a {@code pending} job whose
   * {@code dueAt} has passed, or a {@code processing} one whose lease expired. It sets
   * {@code processing}, {@code leaseOwner}, {@code leaseUntil} (= {@code dueAt}) and increments
   * {@code attempts}. When nothing matched, {@code claimed} is false, with the current state (a null
   * session when it no longer exists).
   */
  Future<SessionJobClaim> claimSessionJob(String sessionId, SessionJobKind kind, String workerId, long leaseMillis);

  /** Extends the lease by {@code leaseMillis} from now, only while {@code workerId} holds it. Replies whether it does. */
  Future<Boolean> renewSessionJob(String sessionId, SessionJobKind kind, String workerId, long leaseMillis);

  /**
   * Ends the job with its {@code result}, only while {@code workerId} holds the lease (else
   * {@code CONFLICT}, nothing changed). What the result changes is the kind's: {@code title} takes
   * {@code {title}} and writes it with {@code titleSource: auto} only while the title is still the
   * default one, in the same conditional write, so a user's rename always wins. Applied, the job is
   * {@code completed} and {@code session.updated} is published; not applicable (a null result, or the
   * user titled the session meanwhile), it is {@code skipped} and the session is left as it is.
   */
  Future<SessionJobEnd> completeSessionJob(String sessionId, SessionJobKind kind, String workerId, JsonObject result);

  /**
   * Gives a claimed job back for a later attempt: {@code pending}, lease cleared, {@code dueAt} =
   * {@code notBefore} (now when null), {@code lastError} recorded. Only while {@code workerId} holds
   * the lease, else {@code CONFLICT}.
   */
  Future<Void> releaseSessionJob(
      String sessionId, SessionJobKind kind, String workerId, Instant notBefore, ErrorInfo lastError);

  /**
   * Ends the job for good as {@code failed} with {@code error}; the session is otherwise unchanged.
   * Only while {@code workerId} holds the lease, else {@code CONFLICT}.
   */
  Future<Void> failSessionJob(String sessionId, SessionJobKind kind, String workerId, ErrorInfo error);

  /**
   * History between two positions for the summary job: the session's {@code user} and completed
   * {@code ai_report} messages strictly after {@code (afterCreatedAt, afterId)} (from the start when
   * null) and strictly before {@code (beforeCreatedAt, beforeId)} (to the end when null), in
   * {@code (createdAt, _id)} order ({@code newestFirst} reverses it), at most {@code limit}, read with
   * one index-bounded query.
   */
  Future<List<ChatMessage>> loadHistoryRange(
      String sessionId, Instant afterCreatedAt, String afterId, Instant beforeCreatedAt, String beforeId,
      int limit, boolean newestFirst);

  /** Result of {@link #claimSessionJob}: the session and its job's state after the claim (or as found). */
  record SessionJobClaim(boolean claimed, ChatSession session, SessionJobState job) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("claimed", claimed)
          .put("session", session == null ? null : session.toJson())
          .put("job", job == null ? null : job.toJson());
    }

    public static SessionJobClaim fromJson(JsonObject o) {
      JsonObject s = o.getJsonObject("session");
      return new SessionJobClaim(
          o.getBoolean("claimed"), s == null ? null : ChatSession.fromJson(s), SessionJobState.fromJson(o.getJsonObject("job")));
    }
  }

  /** Result of {@link #completeSessionJob}: whether the result was applied, and the session after it. */
  record SessionJobEnd(boolean applied, ChatSession session) {
    public JsonObject toJson() {
      return new JsonObject().put("applied", applied).put("session", session == null ? null : session.toJson());
    }

    public static SessionJobEnd fromJson(JsonObject o) {
      JsonObject s = o.getJsonObject("session");
      return new SessionJobEnd(o.getBoolean("applied"), s == null ? null : ChatSession.fromJson(s));
    }
  }
}
