package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Page;
import com.aichat.persistence.Conversations.SearchBudget;
import com.aichat.persistence.Conversations.SearchHit;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import com.mongodb.MongoException;
import io.vertx.ext.mongo.MongoClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Search of one user's sessions (by title) and messages (by content) on the embedded server and on
 * MongoDB alike. The store only walks the user's index range ({@code userId_updatedAt_id} for
 * sessions, {@code userId_createdAt_id} for messages, both in sort order) in small batches; the
 * matching is done here, by {@link LiteralMatcher}: case-insensitive, literal (a query is never a
 * pattern: no injection), and linear in the text's length.
 *
 * <p>Why not a {@code $regex} in the store: a regex of an escaped literal still costs query length ×
 * text length per document on a backtracking engine (Java's, which the embedded server uses), and
 * nothing bounded how many documents one request examined, so one user's 200-character query over
 * long messages held the embedded store's threads for seconds, stalling every other user. Here each
 * request is bounded by {@link SearchBudget}: it stops after examining {@code maxScanBytes} of text or
 * after {@code maxTimeMs} (also sent as {@code maxTimeMS} with each batch's {@code find}, which
 * MongoDB enforces; the embedded server ignores it, and the deadline checked between texts is its
 * bound) and answers what it found with a cursor just past the last text examined. Hits carry the
 * current version of a message only ({@code versions} is not read).
 *
 * <p>One list, paged with one cursor: the matching sessions first (most recent activity first), then
 * the matching messages (newest first). The cursor is base64url of {@code {p: "s"|"m", t?, i?}}: the
 * phase and the sort key of the last text examined.
 *
 * <p>Between two batches a search pauses as long as the previous batch took (its read and its
 * match), so one search uses at most about half of a core however long its texts are: other users'
 * store operations and requests get the rest (the latency test in SearchLimitsTest holds them within
 * 2x of idle).
 */
final class MongoSearch {

  /** Characters of context kept before the first match in a snippet. */
  static final int SNIPPET_BEFORE = 40;
  /** Characters of context kept after the first match in a snippet. */
  static final int SNIPPET_AFTER = 100;
  /** Documents read per {@code find}: small, so no batch holds the store (or this loop) for long. */
  static final int BATCH = 16;
  /** MongoDB's error code for an operation that exceeded its {@code maxTimeMS}. */
  static final int MAX_TIME_MS_EXPIRED = 50;

  private final Vertx vertx;
  private final MongoClient mongo;

  MongoSearch(Vertx vertx, MongoClient mongo) {
    this.vertx = vertx;
    this.mongo = mongo;
  }

  /** What one batch gave: the answer when the request ends in it, else the key of its last text. */
  private record Batch(Page<SearchHit> answer, SortKey last) {}

  private record Cursor(boolean messages, SortKey key) {}

  /** One request's progress. */
  private static final class Scan {
    final String userId;
    final LiteralMatcher matcher;
    final int size;
    final SearchBudget budget;
    final long deadlineNanos;
    final List<SearchHit> hits = new ArrayList<>();
    long scannedBytes;
    int examined;

    Scan(String userId, LiteralMatcher matcher, int size, SearchBudget budget) {
      this.userId = userId;
      this.matcher = matcher;
      this.size = size;
      this.budget = budget;
      this.deadlineNanos = System.nanoTime() + Math.max(1, budget.maxTimeMs()) * 1_000_000L;
    }

    long remainingMs() {
      return Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000L);
    }

    /** True once the request has examined at least one text and spent its bytes or its time. */
    boolean spent() {
      return examined > 0 && (scannedBytes >= budget.maxScanBytes() || System.nanoTime() - deadlineNanos >= 0);
    }
  }

  Future<Page<SearchHit>> search(String userId, String query, int limit, String cursor, SearchBudget budget) {
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
    Scan scan = new Scan(userId, new LiteralMatcher(query), size, budget == null ? SearchBudget.DEFAULT : budget);
    return step(scan, at.messages(), at.key());
  }

  /** Reads the next batch after {@code key} in the phase, matches it, and goes on or answers. */
  private Future<Page<SearchHit>> step(Scan scan, boolean messages, SortKey key) {
    if (scan.spent()) {
      return Future.succeededFuture(new Page<>(scan.hits, encode(messages ? "m" : "s", key)));
    }
    String field = messages ? "createdAt" : "updatedAt";
    JsonObject filter = new JsonObject().put("userId", oid(scan.userId));
    if (key != null) {
      filter = new JsonObject().put("$and", new JsonArray().add(filter).add(MongoDocs.beyond(field, key, false)));
    }
    JsonObject find = new JsonObject()
        .put("find", messages ? MESSAGES : SESSIONS)
        .put("filter", filter)
        .put("sort", new JsonObject().put(field, -1).put("_id", -1))
        .put("limit", BATCH)
        .put("batchSize", BATCH)
        .put("singleBatch", true)
        .put("maxTimeMS", scan.remainingMs());
    if (messages) {
      find.put("projection", new JsonObject().put("versions", 0).put(MongoMessageControls.REQUEST_IDS, 0));
    }
    long started = System.nanoTime();
    return mongo.runCommand("find", find)
        .recover(err -> err instanceof MongoException me && me.getCode() == MAX_TIME_MS_EXPIRED && scan.examined > 0
            ? Future.succeededFuture(null)
            : Future.failedFuture(err))
        .compose(result -> {
          if (result == null) { // out of time in the store: answer what was found
            return Future.succeededFuture(new Page<>(scan.hits, encode(messages ? "m" : "s", key)));
          }
          JsonObject c = result.getJsonObject("cursor");
          JsonArray docs = c == null ? new JsonArray() : c.getJsonArray("firstBatch", new JsonArray());
          // Matching a batch (up to 16 texts of 32,000 characters, plus rendering and snippets) is CPU
          // work: it runs on a worker thread, never on the store's event loop, which serves every other
          // user's store operations meanwhile. Unordered: searches of different users run in parallel;
          // one request's batches run one after the other anyway (each starts after the previous one).
          return vertx.executeBlocking(() -> examine(scan, messages, key, docs), false)
              .compose(batch -> {
                if (batch.answer() != null) {
                  return Future.succeededFuture(batch.answer());
                }
                if (docs.size() == BATCH) {
                  // yield as long as the batch took (read and match) before reading the next one, so one
                  // search holds at most about half a core and other users' operations interleave
                  long pauseMs = Math.max(1, (System.nanoTime() - started) / 1_000_000L);
                  return vertx.timer(pauseMs, java.util.concurrent.TimeUnit.MILLISECONDS)
                      .compose(t -> step(scan, messages, batch.last()));
                }
                // this phase is done: sessions go on with messages; messages end the search
                return messages ? Future.succeededFuture(new Page<>(scan.hits, null)) : step(scan, true, null);
              });
        });
  }

  /** Matches one batch (on a worker thread); an answer when the request ends inside it. */
  private static Batch examine(Scan scan, boolean messages, SortKey key, JsonArray docs) {
    SortKey last = key;
    for (int i = 0; i < docs.size(); i++) {
      JsonObject d = docs.getJsonObject(i);
      SearchHit hit;
      String text;
      if (messages) {
        ChatMessage m = MongoDocs.message(d);
        last = new SortKey(m.createdAt(), m.id());
        text = m.content() == null ? "" : m.content();
        hit = matches(scan, text) ? hit("message", m.toJson(), text, scan.matcher) : null;
      } else {
        ChatSession s = MongoDocs.session(d);
        last = new SortKey(s.updatedAt(), s.id());
        text = s.title() == null ? "" : s.title();
        hit = matches(scan, text) ? hit("session", s.toJson(), text, scan.matcher) : null;
      }
      if (hit != null) {
        scan.hits.add(hit);
      }
      boolean more = i < docs.size() - 1 || docs.size() == BATCH || !messages;
      if ((scan.hits.size() == scan.size || scan.spent()) && more) {
        return new Batch(new Page<>(scan.hits, encode(messages ? "m" : "s", last)), last);
      }
    }
    return new Batch(null, last);
  }

  private static boolean matches(Scan scan, String text) {
    scan.examined++;
    scan.scannedBytes += LiteralMatcher.utf8Bytes(text);
    return scan.matcher.indexIn(text, 0) >= 0;
  }

  private static SearchHit hit(String type, JsonObject item, String text, LiteralMatcher matcher) {
    Snippet s = snippet(text == null ? "" : text, matcher);
    return new SearchHit(type, item, s.text(), s.highlights());
  }

  /** A window of {@code text} around its first match, and every match inside it. */
  record Snippet(String text, List<int[]> highlights) {}

  static Snippet snippet(String text, LiteralMatcher matcher) {
    int first = Math.max(0, matcher.indexIn(text, 0));
    int firstEnd = matcher.indexIn(text, 0) < 0 ? 0 : first + matcher.length();
    int from = safeBoundary(text, Math.max(0, first - SNIPPET_BEFORE));
    int to = safeBoundary(text, Math.min(text.length(), firstEnd + SNIPPET_AFTER));
    String prefix = from > 0 ? "…" : "";
    String body = text.substring(from, to);
    String snippet = prefix + body + (to < text.length() ? "…" : "");
    List<int[]> highlights = new ArrayList<>();
    for (int at = matcher.indexIn(body, 0); at >= 0 && matcher.length() > 0; at = matcher.indexIn(body, at + matcher.length())) {
      highlights.add(new int[] {prefix.length() + at, prefix.length() + at + matcher.length()});
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

  private static String encode(String phase, SortKey key) {
    JsonObject o = new JsonObject().put("p", phase);
    if (key != null) {
      o.put("t", key.time().toEpochMilli()).put("i", key.id());
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
