package com.aichat.persistence;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.persistence.binding.BusAddress;
import com.aichat.persistence.binding.BusProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The life of a reply on a worker (docs/architecture.md §4): claim, the history window, checkpoints and
 * the lease-guarded final writes. The worker's interface ({@code ai.GenerationJob}).
 *
 * <p>Ids are 24-hex strings. Failures are {@link com.aichat.contract.ServiceFailure}s carrying an
 * {@link com.aichat.contract.ErrorCode}; an unreachable database is {@code UNAVAILABLE}. Domain events are
 * published after each committed write by the persistence service layer (see {@link StoreChanges} and
 * {@link Addresses}). Served on the bus by the generic binding ({@link BusAddress}): a method's name is
 * its action, its parameters travel by name, its result by its declared type; adding an operation is
 * declaring it here and implementing it (docs/architecture.md §8).
 */
@BusAddress(Addresses.GENERATIONS)
public interface Generations {

  /** The Generations of the store over the event bus, requests timing out after {@link BusProxy#DEFAULT_TIMEOUT_MS}. */
  static Generations client(Vertx vertx) {
    return BusProxy.create(vertx, Generations.class);
  }

  /**
   * Atomically claims a reply for {@code workerId} with a lease of {@code leaseMillis}: one
   * {@code findOneAndUpdate} matching a {@code pending} reply whose {@code notBefore} has passed, or a
   * {@code processing} reply whose lease expired. It sets {@code processing}, {@code leaseOwner},
   * {@code leaseUntil} and increments {@code attempts}, and publishes {@code message.processing}.
   * When nothing matched, {@code claimed} is false and {@code message} is the current state (null if
   * the message no longer exists).
   *
   * <p>A reply whose session no longer exists (its send raced the session's delete, which had already
   * removed the session's messages) is never generated: the claim deletes it and every other message
   * left under that session, and answers {@code claimed = false} with a null {@code message}.
   */
  Future<ClaimResult> claimGeneration(String messageId, String workerId, long leaseMillis);

  /**
   * {@link #claimGeneration} that also returns what the worker needs to build the reply's context
   * (docs/architecture.md §5): the question ({@code replyTo}), the history window before it as
   * {@link #loadHistory} reads it ({@code historyLimit} at most, newest first) and the session (its
   * summary). {@code sessionId}, when the caller knows it (a dispatch carries it), lets the store read
   * the session and the newest history beside the claim rather than after it; null otherwise. When
   * nothing was claimed (or the claim ended the reply, as {@link #claimGeneration} describes) the
   * context fields are null.
   */
  Future<ReplyClaim> claimReply(String messageId, String sessionId, String workerId, long leaseMillis, int historyLimit);

  /**
   * The history window for a reply, newest first: the session's {@code user} and completed
   * {@code ai_report} messages strictly before {@code (beforeCreatedAt, beforeId)} in
   * {@code (createdAt, _id)} order, at most {@code limit} of them, read with one index-bounded query.
   */
  Future<List<ChatMessage>> loadHistory(
      String sessionId, Instant beforeCreatedAt, String beforeId, int limit);

  /**
   * Saves the partial text and extends the lease, only while {@code workerId} holds it. Replies
   * whether the lease is still held and whether a cancel was requested.
   */
  Future<CheckpointResult> checkpointGeneration(
      String messageId, String workerId, String partialContent, long leaseMillis);

  /**
   * Writes the final reply ({@code completed}) only while {@code workerId} holds the lease; otherwise
   * fails with {@code CONFLICT} and changes nothing. The write that wins adds the reply's usage to the
   * user's daily ledger ({@link Conversations#readUsage}) exactly once, before {@code message.completed} is
   * published; a crash in between is repaired by {@link Recovery#recoverUsageLedger}.
   */
  Future<ChatMessage> completeGeneration(String messageId, String workerId, Completion completion);

  /**
   * Ends the reply for good: {@code messageType} becomes {@code ai_error}, status {@code failed},
   * with the error (and any partial text). Only while {@code workerId} holds the lease, else
   * {@code CONFLICT}. Publishes {@code message.failed}.
   */
  Future<ChatMessage> failGeneration(String messageId, String workerId, ErrorInfo error);

  /**
   * Gives a claimed reply back for a later attempt: status {@code pending}, lease cleared,
   * {@code notBefore} set, {@code lastError} recorded. Only while {@code workerId} holds the lease,
   * else {@code CONFLICT}.
   */
  Future<ChatMessage> releaseForRetry(
      String messageId, String workerId, Instant notBefore, ErrorInfo lastError);

  /**
   * Ends a claimed reply as {@code cancelled}, keeping {@code partialContent}. Only while
   * {@code workerId} holds the lease, else {@code CONFLICT}. Publishes {@code message.cancelled}.
   */
  Future<ChatMessage> cancelGeneration(String messageId, String workerId, String partialContent);

  /**
   * Result of {@link #claimReply}: the claim as {@link ClaimResult}, and when claimed the reply's
   * question, its history window (newest first) and its session.
   */
  record ReplyClaim(
      boolean claimed, ChatMessage message, ChatMessage question, List<ChatMessage> history, ChatSession session) {}

  /** Result of {@link #claimGeneration}. */
  record ClaimResult(boolean claimed, ChatMessage message) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("claimed", claimed)
          .put("message", message == null ? null : message.toJson());
    }

    public static ClaimResult fromJson(JsonObject o) {
      JsonObject m = o.getJsonObject("message");
      return new ClaimResult(o.getBoolean("claimed"), m == null ? null : ChatMessage.fromJson(m));
    }
  }

  /** Result of {@link #checkpointGeneration}. */
  record CheckpointResult(boolean leaseHeld, boolean cancelRequested) {
    public JsonObject toJson() {
      return new JsonObject().put("leaseHeld", leaseHeld).put("cancelRequested", cancelRequested);
    }

    public static CheckpointResult fromJson(JsonObject o) {
      return new CheckpointResult(o.getBoolean("leaseHeld"), o.getBoolean("cancelRequested"));
    }
  }

  /** The final state of a completed reply. */
  record Completion(
      String content, String model, Usage usage, String stopReason, ContextInfo context) {
    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("content", content).put("model", model);
      if (usage != null) {
        o.put("usage", usage.toJson());
      }
      o.put("stopReason", stopReason);
      if (context != null) {
        o.put("context", context.toJson());
      }
      return o;
    }

    public static Completion fromJson(JsonObject o) {
      return new Completion(
          o.getString("content"),
          o.getString("model"),
          Usage.fromJson(o.getJsonObject("usage")),
          o.getString("stopReason"),
          ContextInfo.fromJson(o.getJsonObject("context")));
    }
  }
}
