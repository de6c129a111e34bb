package com.aichat.persistence;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.contract.SessionJobState;
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
 * unreachable database is {@code UNAVAILABLE}. Domain events are published after each committed write
 * by the persistence service layer (see {@link StoreChanges} and {@link com.aichat.contract.Addresses}).
 */
public interface ChatStore {

  /** The title of a session created without one. */
  String DEFAULT_TITLE = "New chat";

  // ---- sessions -------------------------------------------------------------------------------

  /**
   * Creates a session; {@code teamId} may be null. A null {@code title} stores the default title
   * {@value #DEFAULT_TITLE} with {@code titleSource: default} (the title job may replace it); a given
   * one has {@code titleSource: user}. Publishes {@code session.created}.
   */
  Future<ChatSession> createSession(String userId, String teamId, String title);

  /**
   * The user's sessions by most recent activity first ({@code updatedAt} desc, then {@code _id} desc),
   * optionally only one team's. {@code cursor} is the opaque {@code nextCursor} of the previous page,
   * or null; an unparsable cursor fails with {@code VALIDATION_FAILED}.
   */
  Future<Page<ChatSession>> listSessions(String userId, String teamId, int limit, String cursor);

  Future<ChatSession> getSession(String userId, String sessionId);

  /**
   * Changes the title and sets {@code titleSource: user}, so no title job replaces it afterwards (one
   * that is running finds its write refused). Publishes {@code session.updated}.
   */
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
   * provider with the text so far), and its {@code continues} grows by one. {@code NOT_CONTINUABLE}
   * otherwise; {@code TOO_MANY_CONTINUES} once the current version has been continued
   * {@code maxContinues} times; limits, replays and {@code GENERATION_IN_PROGRESS} as
   * {@link #regenerateReply}. A continue that fails or is cancelled returns the reply to this
   * pre-continue state (completed, its text, {@code max_tokens}) with {@code lastContinueError}.
   */
  Future<SendResult> continueReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits,
      int maxContinues);

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

  // ---- generation (docs/architecture.md §4) ----------------------------------------------------

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
   * {@link #claimGeneration} that also returns what the worker needs to build the reply's context
   * (docs/architecture.md §5): the question ({@code replyTo}), the history window before it as
   * {@link #loadHistory} reads it ({@code historyLimit} at most, newest first) and the session (its
   * summary). {@code sessionId}, when the caller knows it (a dispatch carries it), lets the store read
   * the session and the newest history beside the claim rather than after it; null otherwise. When
   * nothing was claimed (or the claim ended the reply, as {@link #claimGeneration} describes) the
   * context fields are null.
   */
  default Future<ReplyClaim> claimReply(
      String messageId, String sessionId, String workerId, long leaseMillis, int historyLimit) {
    return claimGeneration(messageId, workerId, leaseMillis).compose(c -> {
      ChatMessage r = c.message();
      if (!c.claimed()) {
        return Future.succeededFuture(new ReplyClaim(false, r, null, null, null));
      }
      return getMessage(r.userId(), r.sessionId(), r.replyTo()).compose(q -> Future.all(
              loadHistory(r.sessionId(), q.createdAt(), q.id(), historyLimit), getSession(r.userId(), r.sessionId()))
          .map(both -> new ReplyClaim(true, r, q, both.resultAt(0), both.resultAt(1))));
    });
  }

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
   * user's daily ledger ({@link #readUsage}) exactly once, before {@code message.completed} is
   * published; a crash in between is repaired by {@link #recoverUsageLedger}.
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

  /**
   * Ends, now, the leases of {@code processing} replies whose lease owner starts with
   * {@code ownerPrefix} (the workers of a cluster node that left: their ids start with its node id),
   * so a claim may take them at once. Each is a write conditional on the reply still being
   * {@code processing} under the same owner with its lease running, so a reply another worker claimed
   * meanwhile is untouched, and of several callers only one gets each id. The ids whose lease ended.
   */
  Future<List<String>> expireLeasesOf(String ownerPrefix);

  /** Pending and processing {@code ai_report} messages of the user's session (for Socket.IO resume). */
  Future<List<ChatMessage>> findActiveReplies(String userId, String sessionId);

  // ---- history: export, usage ledger, search (issue 12) ----------------------------------------

  /**
   * {@link #listMessages} forwards from {@code after} (a cursor or null), each message as its REST
   * JSON plus every other field its stored document has (e.g. {@code versions}), except the store's
   * internal bookkeeping (lease, slot, idempotency and ledger fields). Ids render as hex, dates as
   * ISO-8601. Used by the export, so it carries fields this contract does not model.
   */
  default Future<Page<JsonObject>> listMessageDocuments(
      String userId, String sessionId, String after, int limit) {
    return listMessages(userId, sessionId, after, null, limit)
        .map(p -> new Page<>(p.items().stream().map(ChatMessage::toJson).toList(), p.nextCursor()));
  }

  /**
   * The user's usage ledger (collection {@code usage_ledger}) for the UTC days {@code from} to
   * {@code to} inclusive ({@code yyyy-MM-dd}), one entry per (day, model) with anything recorded,
   * ordered by day, then model. The worker's completion adds to it (see {@link #completeGeneration}).
   */
  Future<List<UsageEntry>> readUsage(String userId, String from, String to);

  /**
   * Adds to the ledger what completed replies whose ledger write was interrupted (a crash between
   * the completion and the ledger increment) still owe, for replies completed before
   * {@code completedBefore}, at most {@code limit}. Idempotent: a reply is counted once however often
   * this runs. Returns how many replies it looked at.
   */
  Future<Integer> recoverUsageLedger(Instant completedBefore, int limit);

  /**
   * The user's sessions whose title, and messages whose content, contain {@code query}
   * (case-insensitive, literal: no pattern syntax), sessions first (most recent activity first), then
   * messages (newest first). Only the user's own documents are read (index-bounded by
   * {@code userId}). {@code cursor} is the previous page's {@code nextCursor} or null. With the
   * default {@link SearchBudget}.
   */
  default Future<Page<SearchHit>> search(String userId, String query, int limit, String cursor) {
    return search(userId, query, limit, cursor, SearchBudget.DEFAULT);
  }

  /**
   * {@link #search(String, String, int, String)} within {@code budget}: the texts are read in
   * order and matched in linear time; the request stops after examining {@code maxScanBytes} of
   * text or after {@code maxTimeMs}, and then answers the hits found so far (possibly none) with a
   * {@code nextCursor} that resumes right after the last text examined. A page is therefore complete
   * only when {@code nextCursor} is null.
   */
  Future<Page<SearchHit>> search(String userId, String query, int limit, String cursor, SearchBudget budget);

  /**
   * Bounds of one search request ({@code search.max_scan_bytes}, {@code search.max_time_ms}): the
   * UTF-8 bytes of titles and contents it examines, and its wall time (also sent to MongoDB as
   * {@code maxTimeMS}). At least one text is examined per request, so following cursors always ends.
   */
  record SearchBudget(long maxScanBytes, long maxTimeMs) {
    public static final SearchBudget DEFAULT = new SearchBudget(4L << 20, 2_000);
  }
  // ---- session jobs (docs/generation.md, "Session jobs") ---------------------------------------

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
   * Session jobs the sweep must send again, at most {@code limit} per kind: {@code pending} ones due
   * before {@code pendingBefore} (never delivered, or their worker died while waiting to retry) and
   * {@code processing} ones whose lease expired before {@code now}. One index-bounded query per kind.
   */
  Future<List<SessionJobRequest>> findStrandedSessionJobs(Instant now, Instant pendingBefore, int limit);

  // ---- compaction (docs/context.md) -----------------------------------------------------------

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

  /**
   * Result of {@link #claimReply}: the claim as {@link ClaimResult}, and when claimed the reply's
   * question, its history window (newest first) and its session.
   */
  record ReplyClaim(
      boolean claimed, ChatMessage message, ChatMessage question, List<ChatMessage> history, ChatSession session) {
    public JsonObject toJson() {
      io.vertx.core.json.JsonArray h = null;
      if (history != null) {
        h = new io.vertx.core.json.JsonArray();
        for (ChatMessage m : history) {
          h.add(m.toJson());
        }
      }
      return new JsonObject()
          .put("claimed", claimed)
          .put("message", message == null ? null : message.toJson())
          .put("question", question == null ? null : question.toJson())
          .put("history", h)
          .put("session", session == null ? null : session.toJson());
    }

    public static ReplyClaim fromJson(JsonObject o) {
      JsonObject m = o.getJsonObject("message");
      JsonObject q = o.getJsonObject("question");
      JsonObject s = o.getJsonObject("session");
      io.vertx.core.json.JsonArray h = o.getJsonArray("history");
      return new ReplyClaim(o.getBoolean("claimed"), m == null ? null : ChatMessage.fromJson(m),
          q == null ? null : ChatMessage.fromJson(q),
          h == null ? null : h.stream().map(x -> ChatMessage.fromJson((JsonObject) x)).toList(),
          s == null ? null : ChatSession.fromJson(s));
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

  /**
   * One (day, model) row of the usage ledger. {@code day} is {@code yyyy-MM-dd} (UTC); token counts
   * are the provider's; {@code replies} counts completed replies.
   */
  record UsageEntry(
      String day, String model, long inputTokens, long outputTokens, long cacheReadTokens,
      long cacheWriteTokens, long replies) {
    public JsonObject toJson() {
      return new JsonObject()
          .put("day", day)
          .put("model", model)
          .put("inputTokens", inputTokens)
          .put("outputTokens", outputTokens)
          .put("cacheReadTokens", cacheReadTokens)
          .put("cacheWriteTokens", cacheWriteTokens)
          .put("replies", replies);
    }

    public static UsageEntry fromJson(JsonObject o) {
      return new UsageEntry(
          o.getString("day"),
          o.getString("model"),
          o.getLong("inputTokens", 0L),
          o.getLong("outputTokens", 0L),
          o.getLong("cacheReadTokens", 0L),
          o.getLong("cacheWriteTokens", 0L),
          o.getLong("replies", 0L));
    }
  }

  /**
   * One search result: a session (matched by title) or a message (matched by content), with a
   * snippet of the matched text and the UTF-16 offsets {@code [start, end)} of each match inside it.
   *
   * @param type {@code session} or {@code message}
   * @param item the session's or the message's JSON
   */
  record SearchHit(String type, JsonObject item, String snippet, List<int[]> highlights) {
    public JsonObject toJson() {
      io.vertx.core.json.JsonArray hl = new io.vertx.core.json.JsonArray();
      highlights.forEach(h -> hl.add(new JsonObject().put("start", h[0]).put("end", h[1])));
      return new JsonObject().put("type", type).put(type, item).put("snippet", snippet).put("highlights", hl);
    }

    public static SearchHit fromJson(JsonObject o) {
      String type = o.getString("type");
      List<int[]> hl = o.getJsonArray("highlights").stream()
          .map(x -> new int[] {((JsonObject) x).getInteger("start"), ((JsonObject) x).getInteger("end")})
          .toList();
      return new SearchHit(type, o.getJsonObject(type), o.getString("snippet"), hl);
    }
  }

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
