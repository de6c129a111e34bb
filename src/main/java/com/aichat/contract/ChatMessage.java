package com.aichat.contract;

import static com.aichat.contract.Json.instant;
import static com.aichat.contract.Json.iso;
import static com.aichat.contract.Json.putOpt;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One message of a session (collection {@code prompthistories}). Its JSON form is the REST rendering
 * and the bus form:
 *
 * <pre>
 * {id, sessionId, userId, messageType, content, status, replyTo?, clientMessageId?, model?,
 *  usage?: {inputTokens, outputTokens, cacheReadTokens?, cacheWriteTokens?}, stopReason?, error?: {code, message}, attempts,
 *  context?: {messagesUsed, messagesDropped, summaryVersion?, messagesSummarized?, messagesDroppedUncovered?,
 *            estimatedInputTokens?, tokenCounting?, actualInputTokens?, cacheReadTokens?, cacheWriteTokens?},
 *  createdAt, updatedAt,
 *  version, versions?, attemptsBase?, continueOffset?, feedback?, continues?, lastContinueError?}
 * </pre>
 *
 * Lease fields ({@code leaseOwner}, {@code leaseUntil}) are internal to persistence and the worker and
 * are never rendered.
 */
public record ChatMessage(
    String id,
    String sessionId,
    String userId,
    MessageType messageType,
    String content,
    MessageStatus status,
    String replyTo,
    String clientMessageId,
    String model,
    Usage usage,
    String stopReason,
    ErrorInfo error,
    int attempts,
    ContextInfo context,
    Instant createdAt,
    Instant updatedAt,
    Revisions revisions) {

  /** The seed's form, before versions and feedback: a message with no revisions. */
  public ChatMessage(
      String id, String sessionId, String userId, MessageType messageType, String content,
      MessageStatus status, String replyTo, String clientMessageId, String model, Usage usage,
      String stopReason, ErrorInfo error, int attempts, ContextInfo context, Instant createdAt,
      Instant updatedAt) {
    this(id, sessionId, userId, messageType, content, status, replyTo, clientMessageId, model, usage,
        stopReason, error, attempts, context, createdAt, updatedAt, Revisions.NONE);
  }

  public ChatMessage {
    revisions = revisions == null ? Revisions.NONE : revisions;
  }

  /**
   * Versions, continuation and feedback (docs/versions.md). {@code version} is the current version,
   * from 1; {@code versions} the earlier ones, oldest first, each {@code {version, content,
   * messageType, status, model?, usage?, stopReason?, error?, createdAt, completedAt?}} (a user
   * message's: {@code {version, content, createdAt}}). {@code attemptsBase} is the reply's
   * {@code attempts} when its current generation started (attempt numbers stay increasing across
   * versions, so a socket never mixes two versions; the attempt cap counts {@code attempts -
   * attemptsBase}). {@code continueOffset}, while a continue runs, is the length of the text it
   * continues: deltas start there. {@code feedback} is {@code {rating, comment?, updatedAt}}.
   * {@code continues} counts the continues of the current version (capped by
   * {@code messages.max_continues}); {@code lastContinueError} {@code {code, message, at}} says why the
   * last continue ended without completing (failed or cancelled), the reply being back in its
   * pre-continue state.
   */
  public record Revisions(
      int version, JsonArray versions, int attemptsBase, Integer continueOffset, JsonObject feedback,
      int continues, JsonObject lastContinueError) {

    public static final Revisions NONE = new Revisions(1, new JsonArray(), 0, null, null);

    public Revisions(int version, JsonArray versions, int attemptsBase, Integer continueOffset, JsonObject feedback) {
      this(version, versions, attemptsBase, continueOffset, feedback, 0, null);
    }

    public Revisions {
      version = Math.max(1, version);
      versions = versions == null ? new JsonArray() : versions;
    }

    void render(JsonObject o, MessageType type) {
      o.put("version", version);
      if (!versions.isEmpty()) {
        o.put("versions", versions.copy());
      }
      if (attemptsBase > 0) {
        o.put("attemptsBase", attemptsBase);
      }
      putOpt(o, "continueOffset", continueOffset);
      putOpt(o, "feedback", feedback == null ? null : feedback.copy());
      if (continues > 0) {
        o.put("continues", continues);
      }
      putOpt(o, "lastContinueError", lastContinueError == null ? null : lastContinueError.copy());
    }

    static Revisions fromJson(JsonObject o) {
      return new Revisions(
          o.getInteger("version", 1),
          o.getJsonArray("versions"),
          o.getInteger("attemptsBase", 0),
          o.getInteger("continueOffset"),
          o.getJsonObject("feedback"),
          o.getInteger("continues", 0),
          o.getJsonObject("lastContinueError"));
    }
  }

  /** Attempts of the current generation (version or continue), for the attempt cap. */
  public int attemptsOfGeneration() {
    return attempts - revisions.attemptsBase();
  }

  /**
   * Token usage reported by the provider. {@code inputTokens} counts every input token, cached or not;
   * {@code cacheReadTokens} and {@code cacheWriteTokens} say how many of them were read from or written
   * to the prompt cache. The cache fields are rendered only when non-zero.
   */
  public record Usage(long inputTokens, long outputTokens, long cacheReadTokens, long cacheWriteTokens) {

    public Usage(long inputTokens, long outputTokens) {
      this(inputTokens, outputTokens, 0, 0);
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("inputTokens", inputTokens).put("outputTokens", outputTokens);
      if (cacheReadTokens != 0) {
        o.put("cacheReadTokens", cacheReadTokens);
      }
      if (cacheWriteTokens != 0) {
        o.put("cacheWriteTokens", cacheWriteTokens);
      }
      return o;
    }

    public static Usage fromJson(JsonObject o) {
      return o == null
          ? null
          : new Usage(o.getLong("inputTokens", 0L), o.getLong("outputTokens", 0L),
              o.getLong("cacheReadTokens", 0L), o.getLong("cacheWriteTokens", 0L));
    }
  }

  /** Why a reply failed; {@code message} is safe to show a user. */
  public record ErrorInfo(String code, String message) {
    public JsonObject toJson() {
      return new JsonObject().put("code", code).put("message", message);
    }

    public static ErrorInfo fromJson(JsonObject o) {
      return o == null ? null : new ErrorInfo(o.getString("code"), o.getString("message"));
    }
  }

  /**
   * The reply's context record: how much history it was generated from (docs/context.md) and what its
   * input cost (docs/context.md). {@code messagesUsed} and {@code messagesDropped} are always present;
   * the rest was added with compaction and is absent on replies stored before it (and
   * {@code summaryVersion} when no summary was sent):
   *
   * <ul>
   *   <li>{@code summaryVersion}: the version of the session summary sent ahead of the window, or null;
   *   <li>{@code messagesSummarized}: history messages that summary covers;
   *   <li>{@code messagesDroppedUncovered}: dropped messages the summary does not cover yet (what
   *       triggers the summary job);
   *   <li>{@code estimatedInputTokens}, {@code tokenCounting} ({@code estimate} or {@code api}): the
   *       input tokens counted before the request, by the chars-per-token estimate or by Anthropic's
   *       {@code count_tokens} endpoint;
   *   <li>{@code actualInputTokens}, {@code cacheReadTokens}, {@code cacheWriteTokens}: what the provider
   *       reported in its usage (the actual count includes the cached tokens).
   * </ul>
   */
  public record ContextInfo(
      int messagesUsed,
      int messagesDropped,
      Long summaryVersion,
      int messagesSummarized,
      int messagesDroppedUncovered,
      Long estimatedInputTokens,
      String tokenCounting,
      Long actualInputTokens,
      Long cacheReadTokens,
      Long cacheWriteTokens) {

    public ContextInfo(int messagesUsed, int messagesDropped) {
      this(messagesUsed, messagesDropped, null, 0, 0, null, null, null, null, null);
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("messagesUsed", messagesUsed).put("messagesDropped", messagesDropped);
      putOpt(o, "summaryVersion", summaryVersion);
      if (estimatedInputTokens != null) {
        o.put("messagesSummarized", messagesSummarized).put("messagesDroppedUncovered", messagesDroppedUncovered);
      }
      putOpt(o, "estimatedInputTokens", estimatedInputTokens);
      putOpt(o, "tokenCounting", tokenCounting);
      putOpt(o, "actualInputTokens", actualInputTokens);
      putOpt(o, "cacheReadTokens", cacheReadTokens);
      return putOpt(o, "cacheWriteTokens", cacheWriteTokens);
    }

    public static ContextInfo fromJson(JsonObject o) {
      return o == null
          ? null
          : new ContextInfo(
              o.getInteger("messagesUsed", 0),
              o.getInteger("messagesDropped", 0),
              o.getLong("summaryVersion"),
              o.getInteger("messagesSummarized", 0),
              o.getInteger("messagesDroppedUncovered", 0),
              o.getLong("estimatedInputTokens"),
              o.getString("tokenCounting"),
              o.getLong("actualInputTokens"),
              o.getLong("cacheReadTokens"),
              o.getLong("cacheWriteTokens"));
    }
  }

  public JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("id", id)
            .put("sessionId", sessionId)
            .put("userId", userId)
            .put("messageType", messageType.wire())
            .put("content", content == null ? "" : content)
            .put("status", status.wire());
    putOpt(o, "replyTo", replyTo);
    putOpt(o, "clientMessageId", clientMessageId);
    putOpt(o, "model", model);
    putOpt(o, "usage", usage == null ? null : usage.toJson());
    putOpt(o, "stopReason", stopReason);
    putOpt(o, "error", error == null ? null : error.toJson());
    o.put("attempts", attempts);
    putOpt(o, "context", context == null ? null : context.toJson());
    o.put("createdAt", iso(createdAt)).put("updatedAt", iso(updatedAt));
    revisions.render(o, messageType);
    return o;
  }

  public static ChatMessage fromJson(JsonObject o) {
    return new ChatMessage(
        o.getString("id"),
        o.getString("sessionId"),
        o.getString("userId"),
        MessageType.fromWire(o.getString("messageType")),
        o.getString("content", ""),
        MessageStatus.fromWire(o.getString("status")),
        o.getString("replyTo"),
        o.getString("clientMessageId"),
        o.getString("model"),
        Usage.fromJson(o.getJsonObject("usage")),
        o.getString("stopReason"),
        ErrorInfo.fromJson(o.getJsonObject("error")),
        o.getInteger("attempts", 0),
        ContextInfo.fromJson(o.getJsonObject("context")),
        instant(o, "createdAt"),
        instant(o, "updatedAt"),
        Revisions.fromJson(o));
  }
}
