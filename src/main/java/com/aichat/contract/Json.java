package com.aichat.contract;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.YearMonth;

/** Small helpers for the JSON forms of the contract: ISO-8601 instants and optional fields. */
public final class Json {

  private Json() {}

  public static String iso(Instant t) {
    return t == null ? null : t.toString();
  }

  public static Instant instant(JsonObject o, String key) {
    String s = o.getString(key);
    return s == null ? null : parseInstant(s);
  }

  /**
   * An ISO-8601 date-time with an offset as an instant, as {@code OffsetDateTime.parse(s).toInstant()}
   * answers it (and throws), with a fast path for the UTC form every stored and sent date has
   * ({@code 2026-12-07T23:38:37.706Z}, 0–9 fraction digits, {@code Z} or {@code +00:00}):
   * {@code DateTimeFormatter} parsing was 8% of the CPU samples of a loaded node (docs/benchmarks.md).
   */
  public static Instant parseInstant(String s) {
    Instant fast = utcInstant(s);
    return fast != null ? fast : OffsetDateTime.parse(s).toInstant();
  }

  /** The fast path of {@link #parseInstant}: null when {@code s} is not exactly that form. */
  private static Instant utcInstant(String s) {
    int n = s.length();
    if (n < 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59) {
      return null;
    }
    int i = 19;
    int nanos = 0;
    if (s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && i - start < 9 && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        nanos = nanos * 10 + (s.charAt(i) - '0');
        i++;
      }
      int count = i - start;
      if (count == 0) {
        return null;
      }
      for (int k = count; k < 9; k++) {
        nanos *= 10;
      }
    }
    boolean utc = (i == n - 1 && s.charAt(i) == 'Z') || (i == n - 6 && s.startsWith("+00:00", i));
    if (!utc || day > YearMonth.of(year, month).lengthOfMonth()) {
      return null;
    }
    long days = LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
  }

  /** The {@code len} decimal digits of {@code s} at {@code from}, or -1. */
  private static int digits(String s, int from, int len) {
    int v = 0;
    for (int i = from; i < from + len; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** Puts the value only when it is not null, so optional fields are absent rather than null. */
  public static JsonObject putOpt(JsonObject o, String key, Object value) {
    if (value != null) {
      o.put(key, value);
    }
    return o;
  }
}
