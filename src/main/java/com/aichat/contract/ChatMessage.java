package com.aichat.contract;

import static com.aichat.contract.Json.instant;
import static com.aichat.contract.Json.iso;
import static com.aichat.contract.Json.putOpt;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One message of a session (collection {@code prompthistories}). Its JSON form is the REST rendering
 * and the bus form:
 *
 * <pre>
 * {id, sessionId, userId, messageType, content, status, replyTo?, clientMessageId?, model?,
 *  usage?: {inputTokens, outputTokens, cacheReadTokens?, cacheWriteTokens?}, stopReason?, error?: {code, message}, attempts,
 *  context?: {messagesUsed, messagesDropped}, createdAt, updatedAt}
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
    Instant updatedAt) {

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
        instant(o, "updatedAt"));
  }
}
