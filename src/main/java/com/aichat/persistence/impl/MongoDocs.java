package com.aichat.persistence.impl;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Json;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionSummary;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.bson.types.ObjectId;

/**
 * The stored form of sessions and messages as vertx-mongo-client JSON: ObjectIds as {@code {$oid}},
 * dates as {@code {$date}}, so MongoDB holds real BSON types. Also the opaque page cursors.
 */
final class MongoDocs {

  /** A reply's count of continues of its current version (docs/versions.md). */
  static final String CONTINUES = "continues";
  /** Why a reply's last continue ended without completing: {@code {code, message, at}}. */
  static final String LAST_CONTINUE_ERROR = "lastContinueError";

  private MongoDocs() {}

  static boolean isId(String s) {
    return s != null && ObjectId.isValid(s) && s.length() == 24;
  }

  static JsonObject oid(String hex) {
    return new JsonObject().put("$oid", hex);
  }

  static JsonObject date(Instant t) {
    return new JsonObject().put("$date", t.toString());
  }

  /** The hex id of a stored {@code {$oid}} (or, for foreign data, a plain string). */
  static String id(Object v) {
    if (v instanceof JsonObject o) {
      return o.getString("$oid");
    }
    return v == null ? null : v.toString();
  }

  static Instant instant(Object v) {
    if (v instanceof JsonObject o) {
      Object d = o.getValue("$date");
      if (d instanceof Number n) {
        return Instant.ofEpochMilli(n.longValue());
      }
      return d == null ? null : Json.parseInstant(d.toString());
    }
    if (v instanceof String s) {
      return Json.parseInstant(s);
    }
    return null;
  }

  static ChatSession session(JsonObject d) {
    return new ChatSession(
        id(d.getValue("_id")),
        id(d.getValue("userId")),
        id(d.getValue("teamId")),
        d.getString("title"),
        instant(d.getValue("createdAt")),
        instant(d.getValue("updatedAt")),
        instant(d.getValue("lastMessageAt")),
        d.getLong("messageCount", 0L),
        d.getString("titleSource"),
        summary(d.getJsonObject("summary")));
  }

  /** The stored summary: dates as {@code {$date}}, the covered message as {@code {$oid}}. */
  static SessionSummary summary(JsonObject s) {
    return s == null
        ? null
        : new SessionSummary(
            s.getLong("version", 0L),
            s.getString("text", ""),
            id(s.getValue("coversThroughMessageId")),
            instant(s.getValue("coversThroughCreatedAt")),
            s.getLong("messagesCovered", 0L),
            s.getString("model"),
            instant(s.getValue("updatedAt")));
  }

  /** The stored form of a summary. */
  static JsonObject summaryDoc(SessionSummary s) {
    return new JsonObject()
        .put("version", s.version())
        .put("text", s.text())
        .put("coversThroughMessageId", oid(s.coversThroughMessageId()))
        .put("coversThroughCreatedAt", date(s.coversThroughCreatedAt()))
        .put("messagesCovered", s.messagesCovered())
        .put("model", s.model())
        .put("updatedAt", date(s.updatedAt()));
  }

  static ChatMessage message(JsonObject d) {
    return new ChatMessage(
        id(d.getValue("_id")),
        id(d.getValue("chatSessionId")),
        id(d.getValue("userId")),
        MessageType.fromWire(d.getString("messageType")),
        d.getString("content", ""),
        MessageStatus.fromWire(d.getString("status", MessageStatus.COMPLETED.wire())),
        id(d.getValue("replyTo")),
        d.getString("clientMessageId"),
        d.getString("model"),
        Usage.fromJson(d.getJsonObject("usage")),
        d.getString("stopReason"),
        ErrorInfo.fromJson(d.getJsonObject("error")),
        d.getInteger("attempts", 0),
        ContextInfo.fromJson(d.getJsonObject("context")),
        instant(d.getValue("createdAt")),
        instant(d.getValue("updatedAt")),
        revisions(d));
  }

  /**
   * Versions and feedback as stored. The store writes their dates as ISO strings; a document written
   * another way (extended-JSON {@code $date}/{@code $oid}, e.g. by a migration) reads the same.
   */
  static ChatMessage.Revisions revisions(JsonObject d) {
    return new ChatMessage.Revisions(
        d.getInteger("version", 1),
        (JsonArray) plain(d.getJsonArray("versions")),
        d.getInteger("attemptsBase", 0),
        d.getInteger("continueOffset"),
        (JsonObject) plain(d.getJsonObject("feedback")),
        d.getInteger(CONTINUES, 0),
        (JsonObject) plain(d.getJsonObject(LAST_CONTINUE_ERROR)));
  }

  /**
   * Extended-JSON ids and dates as hex and ISO-8601, recursively (also inside plain maps and lists).
   */
  static Object plain(Object v) {
    if (v instanceof java.util.Map<?, ?> map) {
      @SuppressWarnings("unchecked")
      JsonObject o = new JsonObject((java.util.Map<String, Object>) map);
      v = o;
    }
    if (v instanceof java.util.List<?> list) {
      v = new JsonArray(new java.util.ArrayList<>(list));
    }
    if (v instanceof JsonObject o) {
      if (o.size() == 1 && o.containsKey("$oid")) {
        return o.getString("$oid");
      }
      if (o.size() == 1 && o.containsKey("$date")) {
        Instant t = instant(o);
        return t == null ? null : t.toString();
      }
      JsonObject copy = new JsonObject();
      o.forEach(e -> copy.put(e.getKey(), plain(e.getValue())));
      return copy;
    }
    if (v instanceof JsonArray a) {
      JsonArray copy = new JsonArray();
      a.forEach(x -> copy.add(plain(x)));
      return copy;
    }
    return v;
  }


  // ---- cursors ----------------------------------------------------------------------------------

  /** A position in a {@code (time, _id)} ordering. */
  record SortKey(Instant time, String id) {}

  /** base64url of {@code {"t": epochMillis, "i": hex}}; opaque to clients. */
  static String encodeCursor(Instant time, String id) {
    String json = new JsonObject().put("t", time.toEpochMilli()).put("i", id).encode();
    return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** The key of a cursor, or null when it is not one of ours. */
  static SortKey decodeCursor(String cursor) {
    try {
      JsonObject o =
          new JsonObject(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      Long t = o.getLong("t");
      String i = o.getString("i");
      if (t == null || !isId(i)) {
        return null;
      }
      return new SortKey(Instant.ofEpochMilli(t), i);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * Filter for documents strictly after ({@code after = true}) or before the key in ascending
   * {@code (field, _id)} order.
   */
  static JsonObject beyond(String field, SortKey key, boolean after) {
    String op = after ? "$gt" : "$lt";
    return new JsonObject()
        .put(
            "$or",
            new io.vertx.core.json.JsonArray()
                .add(new JsonObject().put(field, new JsonObject().put(op, date(key.time()))))
                .add(
                    new JsonObject()
                        .put(field, date(key.time()))
                        .put("_id", new JsonObject().put(op, oid(key.id())))));
  }
}
