package com.aichat.api;

import com.aichat.contract.ErrorCode;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Conversations.SearchHit;
import com.aichat.persistence.Conversations.UsageEntry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.web.RoutingContext;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The history endpoints of issue 12: {@code GET /chats/:sessionId/export} ({@link SessionExport}),
 * {@code GET /usage} and {@code GET /chats/search}. Each reads only the caller's own data.
 */
final class HistoryHandlers {

  static final int SEARCH_DEFAULT_LIMIT = 20;
  static final int SEARCH_MAX_LIMIT = 50;
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("uuuu-MM-dd").withResolverStyle(ResolverStyle.STRICT);

  private final Conversations store;
  private final HistorySettings settings;

  /** Users with a search running on this node (shared by every API verticle instance). */
  private final LocalMap<String, Boolean> running;

  HistoryHandlers(Vertx vertx, Conversations store, HistorySettings settings) {
    this.store = store;
    this.settings = settings;
    this.running = vertx.sharedData().getLocalMap(SEARCHES_RUNNING);
  }

  static final String SEARCHES_RUNNING = "chat.api.searches-running";

  void export(RoutingContext ctx) {
    SessionExport.handle(ctx, store, settings.exportPageSize());
  }

  /**
   * {@code GET /usage?from=&to=}: the caller's ledger rows, grouped by day (only days with usage), with
   * per-day and overall totals.
   */
  void usage(RoutingContext ctx) {
    LocalDate from = day(ctx, "from");
    LocalDate to = day(ctx, "to");
    if (from.isAfter(to)) {
      throw rangeError("from must not be after to", "from");
    }
    long days = ChronoUnit.DAYS.between(from, to) + 1;
    if (days > settings.usageMaxRangeDays()) {
      throw rangeError("the range is " + days + " days; at most " + settings.usageMaxRangeDays() + " are allowed", "to");
    }
    store.readUsage(AuthHandler.user(ctx).userId(), from.toString(), to.toString())
        .onSuccess(rows -> Responses.json(ctx, 200, usageJson(from, to, rows)))
        .onFailure(ctx::fail);
  }

  private LocalDate day(RoutingContext ctx, String name) {
    String v = Params.single(ctx, name);
    if (v == null) {
      throw rangeError(name + " is required (yyyy-MM-dd)", name);
    }
    try {
      return LocalDate.parse(v, DAY);
    } catch (DateTimeParseException e) {
      throw rangeError(name + " must be a date yyyy-MM-dd", name);
    }
  }

  private ApiError rangeError(String message, String field) {
    return ApiError.of(ErrorCode.INVALID_DATE_RANGE, message)
        .withDetails(new JsonObject().put("field", field).put("maxRangeDays", settings.usageMaxRangeDays()));
  }

  private static JsonObject usageJson(LocalDate from, LocalDate to, List<UsageEntry> rows) {
    Map<String, List<UsageEntry>> byDay = new LinkedHashMap<>();
    rows.forEach(r -> byDay.computeIfAbsent(r.day(), d -> new ArrayList<>()).add(r));
    JsonArray days = new JsonArray();
    byDay.forEach((day, entries) -> {
      JsonArray models = new JsonArray();
      entries.forEach(e -> {
        JsonObject o = e.toJson();
        o.remove("day");
        models.add(o);
      });
      days.add(new JsonObject().put("day", day).put("models", models).put("totals", totals(entries)));
    });
    return new JsonObject()
        .put("from", from.toString())
        .put("to", to.toString())
        .put("days", days)
        .put("totals", totals(rows));
  }

  private static JsonObject totals(List<UsageEntry> rows) {
    long in = 0;
    long out = 0;
    long read = 0;
    long write = 0;
    long replies = 0;
    for (UsageEntry e : rows) {
      in += e.inputTokens();
      out += e.outputTokens();
      read += e.cacheReadTokens();
      write += e.cacheWriteTokens();
      replies += e.replies();
    }
    return new JsonObject()
        .put("inputTokens", in)
        .put("outputTokens", out)
        .put("cacheReadTokens", read)
        .put("cacheWriteTokens", write)
        .put("replies", replies);
  }

  /** {@code GET /chats/search?q=&limit=&cursor=}: the caller's matching sessions, then messages. */
  void search(RoutingContext ctx) {
    String raw = Params.single(ctx, "q");
    String q = raw == null ? "" : raw.strip();
    int chars = q.codePointCount(0, q.length());
    if (chars < settings.searchMinQueryChars() || chars > settings.searchMaxQueryChars()) {
      throw searchError("q must be " + settings.searchMinQueryChars() + "-" + settings.searchMaxQueryChars()
          + " characters and not blank");
    }
    if (q.chars().anyMatch(c -> Character.isISOControl(c))) {
      throw searchError("q must not contain control characters");
    }
    int limit = Params.limit(ctx, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT);
    String cursor = Params.cursor(ctx, "cursor");
    String userId = AuthHandler.user(ctx).userId();
    // One search per user at a time on this node: a user cannot multiply the store's work by
    // searching in parallel (each request is bounded by search.max_scan_bytes and search.max_time_ms).
    if (running.putIfAbsent(userId, Boolean.TRUE) != null) {
      throw ApiError.of(ErrorCode.SEARCH_IN_PROGRESS,
          "another search of yours is still running; search again when it has answered");
    }
    store.search(userId, q, limit, cursor,
            new Conversations.SearchBudget(settings.searchMaxScanBytes(), settings.searchMaxTimeMs()))
        .onComplete(ar -> running.remove(userId))
        .onSuccess(page -> Responses.json(ctx, 200, page.toJson(SearchHit::toJson).put("query", q)))
        .onFailure(ctx::fail);
  }

  private ApiError searchError(String message) {
    return ApiError.of(ErrorCode.INVALID_SEARCH_QUERY, message).withDetails(new JsonObject()
        .put("field", "q")
        .put("minChars", settings.searchMinQueryChars())
        .put("maxChars", settings.searchMaxQueryChars()));
  }
}
