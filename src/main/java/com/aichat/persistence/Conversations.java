package com.aichat.persistence;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.persistence.binding.BusAddress;
import com.aichat.persistence.binding.BusProxy;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The store as the user sees it: sessions, messages, versions and feedback, a user's cancel, the
 * active replies of a session, export, usage and search. The API's interface; the gateway (ownership
 * and active replies on join), readiness (the health count), the worker (the question and the session
 * of a reply) and the title job (the first exchange) read through it too, because these reads are
 * about a user's conversation, not about running a job.
 *
 * <p>Every operation taking a {@code userId} is scoped by it: a session or message of another user,
 * and a malformed id, fail with {@code NOT_FOUND}.
 *
 * <p>Ids are 24-hex strings. Failures are {@link com.aichat.contract.ServiceFailure}s carrying an
 * {@link com.aichat.contract.ErrorCode}; an unreachable database is {@code UNAVAILABLE}. Domain events are
 * published after each committed write by the persistence service layer (see {@link StoreChanges} and
 * {@link Addresses}). Served on the bus by the generic binding ({@link BusAddress}): a method's name is
 * its action, its parameters travel by name, its result by its declared type; adding an operation is
 * declaring it here and implementing it (docs/architecture.md §8).
 */
@BusAddress(Addresses.CONVERSATIONS)
public interface Conversations {

  /** The Conversations of the store over the event bus, requests timing out after {@link BusProxy#DEFAULT_TIMEOUT_MS}. */
  static Conversations client(Vertx vertx) {
    return BusProxy.create(vertx, Conversations.class);
  }

  /** The {@code Conversations} of the store over the event bus, requests timing out after {@code timeoutMs}. */
  static Conversations client(Vertx vertx, long timeoutMs) {
    return BusProxy.create(vertx, Conversations.class, timeoutMs);
  }

  /** The title of a session created without one. */
  String DEFAULT_TITLE = "New chat";

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

  /**
   * Cancels a reply on the user's behalf. A pending reply becomes {@code cancelled} at once. A
   * processing reply gets {@code cancelRequested} set; the worker holding its lease then stops and
   * writes {@code cancelled} with its partial text (and a claim of a cancel-requested reply cancels it
   * instead). A final reply fails with {@code CONFLICT}; a user message with {@code VALIDATION_FAILED}.
   * Returns the message after the change.
   */
  Future<ChatMessage> requestCancel(String userId, String sessionId, String messageId);

  /** Pending and processing {@code ai_report} messages of the user's session (for Socket.IO resume). */
  Future<List<ChatMessage>> findActiveReplies(String userId, String sessionId);

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
   * ordered by day, then model. The worker's completion adds to it (see {@link Generations#completeGeneration}).
   */
  Future<List<UsageEntry>> readUsage(String userId, String from, String to);

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
}
