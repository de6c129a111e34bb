package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Page;
import com.aichat.persistence.ChatStore.SearchHit;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Search of one user's sessions (by title) and messages (by content) on the embedded server and on
 * MongoDB alike: a case-insensitive {@code $regex} of the escaped query, ANDed with {@code userId}
 * equality so the planner walks only that user's index range ({@code userId_updatedAt_id} for
 * sessions, {@code userId_createdAt_id} for messages, both in sort order, stopping at the page's
 * limit). The query is literal: every ASCII character that is not a letter or a digit is escaped with
 * a backslash, which both MongoDB's PCRE and Java's regex read as that character itself, so a query is
 * never a pattern (no injection, no catastrophic backtracking: an escaped literal has none).
 *
 * <p>One list, paged with one cursor: the matching sessions first (most recent activity first), then
 * the matching messages (newest first). The cursor is base64url of {@code {p: "s"|"m", t?, i?}}: the
 * phase and the last item's sort key.
 */
final class MongoSearch {

  /** Characters of context kept before the first match in a snippet. */
  static final int SNIPPET_BEFORE = 40;
  /** Characters of context kept after the first match in a snippet. */
  static final int SNIPPET_AFTER = 100;

  private final MongoClient mongo;

  MongoSearch(MongoClient mongo) {
    this.mongo = mongo;
  }

  private record Cursor(boolean messages, SortKey key) {}

  Future<Page<SearchHit>> search(String userId, String query, int limit, String cursor) {
    if (!isId(userId)) {
      return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("userId must be a 24-hex id"));
    }
    if (query == null || query.isBlank()) {
      return Future.failedFuture(ErrorCode.INVALID_SEARCH_QUERY.failure("q must not be blank"));
    }
    Cursor at = cursor == null ? new Cursor(false, null) : decode(cursor);
    if (at == null) {
      return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("cursor is not valid"));
    }
    int size = Math.max(1, Math.min(limit, MongoChatStore.MAX_PAGE));
    JsonObject regex = new JsonObject().put("$regex", escape(query)).put("$options", "i");
    Pattern highlight = Pattern.compile(Pattern.quote(query), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    if (at.messages()) {
      return messages(userId, regex, highlight, at.key(), size, new ArrayList<>());
    }
    JsonObject q = new JsonObject().put("userId", oid(userId)).put("title", regex);
    if (at.key() != null) {
      q = new JsonObject().put("$and", new JsonArray().add(q).add(MongoDocs.beyond("updatedAt", at.key(), false)));
    }
    FindOptions opts = new FindOptions()
        .setSort(new JsonObject().put("updatedAt", -1).put("_id", -1))
        .setLimit(size + 1);
    return mongo.findWithOptions(SESSIONS, q, opts).compose(docs -> {
      List<SearchHit> hits = new ArrayList<>();
      for (JsonObject d : docs.subList(0, Math.min(size, docs.size()))) {
        ChatSession s = MongoDocs.session(d);
        hits.add(hit("session", s.toJson(), s.title(), highlight));
      }
      if (docs.size() > size) {
        ChatSession last = MongoDocs.session(docs.get(size - 1));
        return Future.succeededFuture(new Page<>(hits, encode("s", last.updatedAt(), last.id())));
      }
      return messages(userId, regex, highlight, null, size, hits);
    });
  }

  /** Fills {@code hits} up to {@code size} with matching messages after {@code key}. */
  private Future<Page<SearchHit>> messages(
      String userId, JsonObject regex, Pattern highlight, SortKey key, int size, List<SearchHit> hits) {
    int room = size - hits.size();
    JsonObject q = new JsonObject().put("userId", oid(userId)).put("content", regex);
    if (key != null) {
      q = new JsonObject().put("$and", new JsonArray().add(q).add(MongoDocs.beyond("createdAt", key, false)));
    }
    FindOptions opts = new FindOptions()
        .setSort(new JsonObject().put("createdAt", -1).put("_id", -1))
        .setLimit(room + 1);
    return mongo.findWithOptions(MESSAGES, q, opts).map(docs -> {
      if (room == 0) {
        // The page is full of sessions; say whether any message follows.
        return new Page<>(hits, docs.isEmpty() ? null : encode("m", null, null));
      }
      ChatMessage last = null;
      for (JsonObject d : docs.subList(0, Math.min(room, docs.size()))) {
        last = MongoDocs.message(d);
        hits.add(hit("message", last.toJson(), last.content(), highlight));
      }
      String next = docs.size() > room ? encode("m", last.createdAt(), last.id()) : null;
      return new Page<>(hits, next);
    });
  }

  private static SearchHit hit(String type, JsonObject item, String text, Pattern highlight) {
    Snippet s = snippet(text == null ? "" : text, highlight);
    return new SearchHit(type, item, s.text(), s.highlights());
  }

  /** A window of {@code text} around its first match, and every match inside it. */
  record Snippet(String text, List<int[]> highlights) {}

  static Snippet snippet(String text, Pattern highlight) {
    Matcher m = highlight.matcher(text);
    int first = 0;
    int firstEnd = 0;
    if (m.find()) {
      first = m.start();
      firstEnd = m.end();
    }
    int from = safeBoundary(text, Math.max(0, first - SNIPPET_BEFORE));
    int to = safeBoundary(text, Math.min(text.length(), firstEnd + SNIPPET_AFTER));
    String prefix = from > 0 ? "…" : "";
    String body = text.substring(from, to);
    String snippet = prefix + body + (to < text.length() ? "…" : "");
    List<int[]> highlights = new ArrayList<>();
    Matcher inside = highlight.matcher(body);
    while (inside.find()) {
      if (inside.end() > inside.start()) {
        highlights.add(new int[] {prefix.length() + inside.start(), prefix.length() + inside.end()});
      }
    }
    return new Snippet(snippet, highlights);
  }

  /** Moves a cut off the middle of a surrogate pair. */
  private static int safeBoundary(String text, int at) {
    if (at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at))
        && Character.isHighSurrogate(text.charAt(at - 1))) {
      return at - 1;
    }
    return at;
  }

  /** The query as a literal pattern: every ASCII non-alphanumeric character backslash-escaped. */
  static String escape(String query) {
    StringBuilder sb = new StringBuilder(query.length() * 2);
    for (int i = 0; i < query.length(); i++) {
      char c = query.charAt(i);
      boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c > 127;
      if (!plain) {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

  private static String encode(String phase, Instant t, String id) {
    JsonObject o = new JsonObject().put("p", phase);
    if (t != null) {
      o.put("t", t.toEpochMilli()).put("i", id);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(o.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static Cursor decode(String cursor) {
    try {
      JsonObject o = new JsonObject(new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8));
      String p = o.getString("p");
      if (!"s".equals(p) && !"m".equals(p)) {
        return null;
      }
      Long t = o.getLong("t");
      String i = o.getString("i");
      if (t == null && i == null) {
        return "m".equals(p) ? new Cursor(true, null) : null;
      }
      if (t == null || !isId(i)) {
        return null;
      }
      return new Cursor("m".equals(p), new SortKey(Instant.ofEpochMilli(t), i));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
