package com.aichat.persistence;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * Everything the service stores, as one contract. Other verticles reach it only through
 * {@link ChatStoreClient} (the event-bus proxy on {@link com.aichat.contract.Addresses#PERSISTENCE});
 * {@link PersistenceVerticle} serves it with {@link com.aichat.persistence.impl.MongoChatStore}.
 *
 * <p>Ids are 24-hex strings. Every user-facing operation is scoped by {@code userId}: a session or
 * message of another user, and a malformed id, fail with {@code NOT_FOUND}. Failures are
 * {@link com.aichat.contract.ServiceFailure}s carrying an {@link com.aichat.contract.ErrorCode}; an
 * unreachable database is {@code UNAVAILABLE}. Domain events are published by the implementation after
 * each committed write (see {@link com.aichat.contract.Addresses}).
 */
public interface ChatStore {

  // ---- sessions -------------------------------------------------------------------------------

  /** Creates a session; {@code teamId} may be null. Publishes {@code session.created}. */
  Future<ChatSession> createSession(String userId, String teamId, String title);

  /**
   * The user's sessions by most recent activity first ({@code updatedAt} desc, then {@code _id} desc),
   * optionally only one team's. {@code cursor} is the opaque {@code nextCursor} of the previous page,
   * or null; an unparsable cursor fails with {@code VALIDATION_FAILED}.
   */
  Future<Page<ChatSession>> listSessions(String userId, String teamId, int limit, String cursor);

  Future<ChatSession> getSession(String userId, String sessionId);

  /** Changes the title. Publishes {@code session.updated}. */
  Future<ChatSession> renameSession(String userId, String sessionId, String title);

  /** Deletes the session and all of its messages. Publishes {@code session.deleted}. */
  Future<Void> deleteSession(String userId, String sessionId);

  // ---- messages -------------------------------------------------------------------------------

  /**
   * Stores a user message (status {@code completed}) and its {@code ai_report} placeholder (status
   * {@code pending}, {@code replyTo} = the user message), and bumps the session's
   * {@code lastMessageAt}, {@code updatedAt} and {@code messageCount}. With a {@code clientMessageId}
   * already used in this session, nothing is written and the stored pair is returned with
   * {@code created = false}. Publishes {@code message.created} for both messages and
   * {@code session.updated}.
   */
  default Future<SendResult> sendMessage(String userId, String sessionId, String content, String clientMessageId) {
    return sendMessage(userId, sessionId, content, clientMessageId, SendLimits.NONE);
  }

  /**
   * {@link #sendMessage(String, String, String, String)} under the user's send limits, in this order:
   * <ol>
   *   <li>a repeated {@code clientMessageId} is answered with the stored pair ({@code created = false})
   *       before any limit is looked at, so a retry never counts twice and is never refused;
   *   <li>{@code maxPendingReplies}: when the user already has that many replies {@code pending} or
   *       {@code processing}, the send fails with {@code TOO_MANY_PENDING} and nothing is written. Each
   *       such reply holds one of the user's {@code maxPendingReplies} slots, a unique key on the reply
   *       document itself that the write ending the reply removes, so the cap holds under concurrent
   *       sends and cannot drift;
   *   <li>the daily quota: one conditional increment of the user's counter for {@code quotaDay} in
   *       {@code usage_counters} ({@code messages < dailyMessages}), else {@code QUOTA_EXCEEDED} with
   *       nothing written. Deleting sessions or messages never touches the counter. A send that fails
   *       after the increment (a concurrent identical retry won, a race for the last pending slot, a
   *       database error) gives the unit back; only a crash between the increment and the write keeps
   *       it (the quota fails closed).
   * </ol>
   */
  Future<SendResult> sendMessage(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits);

  /**
   * The pair stored by an earlier {@link #sendMessage} with this {@code clientMessageId}, with
   * {@code created = false}, without writing anything; {@code NOT_FOUND} when there is none (or the
   * session is not the user's). Lets a retried send be answered even when a new send would be refused
   * (e.g. by the daily quota).
   */
  Future<SendResult> findSend(String userId, String sessionId, String clientMessageId);

  /**
   * Messages in chronological order ({@code createdAt}, then {@code _id}). {@code after} and
   * {@code before} are cursors (opaque, from a previous page's {@code nextCursor}) or message ids; at
   * most one is given. With {@code before}, the page holds the newest messages older than it, still in
   * chronological order, and {@code nextCursor} continues backwards.
   */
  Future<Page<ChatMessage>> listMessages(
      String userId, String sessionId, String after, String before, int limit);

  Future<ChatMessage> getMessage(String userId, String sessionId, String messageId);

  /**
   * Number of {@code user} messages this user stored since {@code since} (index-served; the health
   * probe's round trip). The daily quota does not use it: see {@link SendLimits}.
   */
  Future<Long> countUserMessagesSince(String userId, Instant since);

  /**
   * Reads one field of a document in another collection of the shared database, for the {@code mongo}
   * subscription check: the document whose {@code idField} equals the user's ObjectId. Replies
   * {@code {found: boolean, value: any}} where {@code value} is the value at the dotted
   * {@code fieldPath}.
   */
  Future<JsonObject> lookupUserField(String collection, String idField, String userId, String fieldPath);

  // ---- versions, continue, feedback (docs/versions.md) ------------------------------------------

  /**
   * Starts a new version of a final reply ({@code ai_report} or {@code ai_error}): the current one is
   * pushed onto {@code versions}, {@code version} grows by one, the reply becomes a {@code pending}
   * {@code ai_report} with empty content, under the same send limits as a send (a pending slot, one
   * unit of the daily quota). A {@code clientMessageId} already applied to this reply answers the
   * current state with {@code created = false}. {@code WRONG_MESSAGE_TYPE} for a user message,
   * {@code GENERATION_IN_PROGRESS} while the reply is pending or processing, {@code TOO_MANY_VERSIONS}
   * at {@code maxVersions}. Publishes {@code message.updated}. The result's {@code userMessage} is the
   * reply's question.
   */
  Future<SendResult> regenerateReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits, int maxVersions);

  /**
   * Continues a completed reply that stopped at {@code max_tokens}: it becomes {@code pending} with
   * {@code continueOffset} = its content's length, and the worker appends to it (prefilling the
   * provider with the text so far). {@code NOT_CONTINUABLE} otherwise; limits, replays and
   * {@code GENERATION_IN_PROGRESS} as {@link #regenerateReply}.
   */
  Future<SendResult> continueReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits);

  /**
   * Replaces the content of the session's last user message (the earlier text kept in its
   * {@code versions}) and regenerates its reply as {@link #regenerateReply}. {@code NOT_LAST_MESSAGE}
   * for an earlier user message, {@code WRONG_MESSAGE_TYPE} for a reply.
   */
  Future<SendResult> editMessage(
      String userId, String sessionId, String messageId, String content, String clientMessageId,
      SendLimits limits, int maxVersions);

  /**
   * Sets the feedback ({@code rating} {@code up}/{@code down}, optional {@code comment}) of a final
   * reply, or clears it when {@code rating} is null. Publishes {@code message.updated}.
   */
  Future<ChatMessage> setFeedback(
      String userId, String sessionId, String messageId, String rating, String comment);

  // ---- generation (DESIGN.md §3) --------------------------------------------------------------

  /**
   * Cancels a reply on the user's behalf. A pending reply becomes {@code cancelled} at once. A
   * processing reply gets {@code cancelRequested} set; the worker holding its lease then stops and
   * writes {@code cancelled} with its partial text (and a claim of a cancel-requested reply cancels it
   * instead). A final reply fails with {@code CONFLICT}; a user message with {@code VALIDATION_FAILED}.
   * Returns the message after the change.
   */
  Future<ChatMessage> requestCancel(String userId, String sessionId, String messageId);

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
   * fails with {@code CONFLICT} and changes nothing. Publishes {@code message.completed}.
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
   * Ids of replies the sweep must dispatch again, oldest first, at most {@code limit}:
   * {@code pending} ones last updated before {@code pendingBefore} whose {@code notBefore} has passed,
   * and {@code processing} ones whose lease expired before {@code now}.
   */
  Future<List<String>> findStrandedReplies(Instant now, Instant pendingBefore, int limit);

  /** Pending and processing {@code ai_report} messages of the user's session (for Socket.IO resume). */
  Future<List<ChatMessage>> findActiveReplies(String userId, String sessionId);

  // ---- value types ----------------------------------------------------------------------------

  /** Result of {@link #sendMessage}: the stored pair, and whether this call created it. */
  record SendResult(ChatMessage userMessage, ChatMessage reply, boolean created) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("userMessage", userMessage.toJson())
          .put("reply", reply.toJson())
          .put("created", created);
    }

    public static SendResult fromJson(JsonObject o) {
      return new SendResult(
          ChatMessage.fromJson(o.getJsonObject("userMessage")),
          ChatMessage.fromJson(o.getJsonObject("reply")),
          o.getBoolean("created"));
    }
  }

  /**
   * The limits one send is admitted under (see {@link #sendMessage(String, String, String, String,
   * SendLimits)}).
   *
   * @param dailyMessages the user's daily quota; negative for none (0 refuses every send)
   * @param quotaDay the UTC day the quota counts, {@code yyyy-MM-dd}; required with a quota
   * @param usageRetentionDays how many days after {@code quotaDay} the counter document may be
   *     removed ({@code expiresAt}, a TTL index on MongoDB)
   * @param maxPendingReplies most replies of the user pending or processing at once; 0 for no cap
   */
  record SendLimits(long dailyMessages, String quotaDay, int usageRetentionDays, int maxPendingReplies) {

    /** No quota and no pending cap. */
    public static final SendLimits NONE = new SendLimits(-1, null, 0, 0);

    public boolean hasQuota() {
      return dailyMessages >= 0;
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("dailyMessages", dailyMessages)
          .put("quotaDay", quotaDay)
          .put("usageRetentionDays", usageRetentionDays)
          .put("maxPendingReplies", maxPendingReplies);
    }

    public static SendLimits fromJson(JsonObject o) {
      return o == null
          ? NONE
          : new SendLimits(
              o.getLong("dailyMessages", -1L),
              o.getString("quotaDay"),
              o.getInteger("usageRetentionDays", 0),
              o.getInteger("maxPendingReplies", 0));
    }
  }

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
