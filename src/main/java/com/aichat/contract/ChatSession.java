package com.aichat.contract;

import static com.aichat.contract.Json.instant;
import static com.aichat.contract.Json.iso;
import static com.aichat.contract.Json.putOpt;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A chat session (collection {@code chatsessions}). Its JSON form is the REST rendering and the bus
 * form: ids as 24-hex strings, instants as ISO-8601 strings.
 *
 * <pre>{id, userId, teamId?, title, titleSource?, createdAt, updatedAt, lastMessageAt?, messageCount, summary?}</pre>
 *
 * <p>{@code titleSource} says where the title came from: {@link #TITLE_DEFAULT} (created without one,
 * so the title job may replace it), {@link #TITLE_USER} (given at creation or by a rename; never
 * replaced) or {@link #TITLE_AUTO} (written by the title job). Absent on sessions stored before the
 * field existed.
 *
 * <p>{@code summary} is the rolling summary of the session's older history ({@link SessionSummary},
 * docs/context.md), absent until the summary job first wrote one.
 */
public record ChatSession(
    String id,
    String userId,
    String teamId,
    String title,
    Instant createdAt,
    Instant updatedAt,
    Instant lastMessageAt,
    long messageCount,
    String titleSource,
    SessionSummary summary) {

  /** The session was created without a title: it shows the default one, which the title job may replace. */
  public static final String TITLE_DEFAULT = "default";
  /** The user gave the title (at creation or by a rename): nothing replaces it automatically. */
  public static final String TITLE_USER = "user";
  /** The title job generated the title. */
  public static final String TITLE_AUTO = "auto";

  public ChatSession(
      String id, String userId, String teamId, String title, Instant createdAt, Instant updatedAt,
      Instant lastMessageAt, long messageCount) {
    this(id, userId, teamId, title, createdAt, updatedAt, lastMessageAt, messageCount, null, null);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("id", id).put("userId", userId);
    putOpt(o, "teamId", teamId);
    o.put("title", title);
    putOpt(o, "titleSource", titleSource);
    o.put("createdAt", iso(createdAt)).put("updatedAt", iso(updatedAt));
    putOpt(o, "lastMessageAt", iso(lastMessageAt));
    o.put("messageCount", messageCount);
    putOpt(o, "summary", summary == null ? null : summary.toJson());
    return o;
  }

  public static ChatSession fromJson(JsonObject o) {
    return new ChatSession(
        o.getString("id"),
        o.getString("userId"),
        o.getString("teamId"),
        o.getString("title"),
        instant(o, "createdAt"),
        instant(o, "updatedAt"),
        instant(o, "lastMessageAt"),
        o.getLong("messageCount", 0L),
        o.getString("titleSource"),
        SessionSummary.fromJson(o.getJsonObject("summary")));
  }
}
