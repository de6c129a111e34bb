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
 *  usage?: {inputTokens, outputTokens}, stopReason?, error?: {code, message}, attempts,
 *  context?: {messagesUsed, messagesDropped}, createdAt, updatedAt,
 *  version, versions?, attemptsBase?, continueOffset?, feedback?}
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
   */
  public record Revisions(
      int version, JsonArray versions, int attemptsBase, Integer continueOffset, JsonObject feedback) {

    public static final Revisions NONE = new Revisions(1, new JsonArray(), 0, null, null);

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
    }

    static Revisions fromJson(JsonObject o) {
      return new Revisions(
          o.getInteger("version", 1),
          o.getJsonArray("versions"),
          o.getInteger("attemptsBase", 0),
          o.getInteger("continueOffset"),
          o.getJsonObject("feedback"));
    }
  }

  /** Attempts of the current generation (version or continue), for the attempt cap. */
  public int attemptsOfGeneration() {
    return attempts - revisions.attemptsBase();
  }

  /** Token usage reported by the provider. */
  public record Usage(long inputTokens, long outputTokens) {
    public JsonObject toJson() {
      return new JsonObject().put("inputTokens", inputTokens).put("outputTokens", outputTokens);
    }

    public static Usage fromJson(JsonObject o) {
      return o == null ? null : new Usage(o.getLong("inputTokens", 0L), o.getLong("outputTokens", 0L));
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

  /** How much history the reply was generated from (DESIGN.md §4). */
  public record ContextInfo(int messagesUsed, int messagesDropped) {
    public JsonObject toJson() {
      return new JsonObject().put("messagesUsed", messagesUsed).put("messagesDropped", messagesDropped);
    }

    public static ContextInfo fromJson(JsonObject o) {
      return o == null
          ? null
          : new ContextInfo(o.getInteger("messagesUsed", 0), o.getInteger("messagesDropped", 0));
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
