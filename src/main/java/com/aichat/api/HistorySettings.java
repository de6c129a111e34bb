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
 * @param searchMaxScanBytes {@code search.max_scan_bytes} (default 4 MiB, 1 KiB-1 GiB): UTF-8 bytes of
 *     titles and contents one search request examines; then it answers what it found with a
 *     {@code nextCursor} that resumes there
 * @param searchMaxTimeMs {@code search.max_time_ms} (default 2000, 10-60000): wall time of one search
 *     request (MongoDB's {@code maxTimeMS} on each read, and a deadline between texts); then it
 *     answers likewise
 */
public record HistorySettings(
    int exportPageSize, int usageMaxRangeDays, int searchMinQueryChars, int searchMaxQueryChars,
    long searchMaxScanBytes, long searchMaxTimeMs) {

  public static final HistorySettings DEFAULTS = new HistorySettings(100, 366, 1, 200, 4L << 20, 2_000);

  /** The settings before the search budget (its defaults). */
  public HistorySettings(int exportPageSize, int usageMaxRangeDays, int searchMinQueryChars, int searchMaxQueryChars) {
    this(exportPageSize, usageMaxRangeDays, searchMinQueryChars, searchMaxQueryChars,
        DEFAULTS_SCAN_BYTES, DEFAULTS_TIME_MS);
  }

  private static final long DEFAULTS_SCAN_BYTES = 4L << 20;
  private static final long DEFAULTS_TIME_MS = 2_000;

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
        max,
        search.longValue("max_scan_bytes", DEFAULTS_SCAN_BYTES, 1024, 1L << 30),
        search.longValue("max_time_ms", DEFAULTS_TIME_MS, 10, 60_000));
  }
}
