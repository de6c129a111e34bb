package com.aichat.api;

import com.aichat.config.ConfigReader;

/**
 * {@code export.*}, {@code usage.*} and {@code search.*}: the history endpoints (issue 12).
 *
 * @param exportPageSize {@code export.page_size} (default 100, 1-100): messages read from the store per
 *     request while an export streams; at most this many are held in memory per export
 * @param usageMaxRangeDays {@code usage.max_range_days} (default 366, 1-3660): longest {@code from}..{@code to}
 *     range of {@code GET /usage}, both days counted; longer is 400 {@code INVALID_DATE_RANGE}
 * @param searchMinQueryChars {@code search.min_query_chars} (default 1): shortest {@code q} of
 *     {@code GET /chats/search} (after trimming); shorter is 400 {@code INVALID_SEARCH_QUERY}
 * @param searchMaxQueryChars {@code search.max_query_chars} (default 200, at most 1000): longest {@code q}
 */
public record HistorySettings(
    int exportPageSize, int usageMaxRangeDays, int searchMinQueryChars, int searchMaxQueryChars) {

  public static final HistorySettings DEFAULTS = new HistorySettings(100, 366, 1, 200);

  public static HistorySettings from(ConfigReader export, ConfigReader usage, ConfigReader search) {
    int min = search.intValue("min_query_chars", 1, 1, 1000);
    int max = search.intValue("max_query_chars", 200, 1, 1000);
    if (min > max) {
      throw search.error("min_query_chars", "must not be greater than search.max_query_chars (" + max + ")");
    }
    return new HistorySettings(
        export.intValue("page_size", 100, 1, 100),
        usage.intValue("max_range_days", 366, 1, 3660),
        min,
        max);
  }
}
