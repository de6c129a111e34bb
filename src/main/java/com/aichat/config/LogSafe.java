package com.aichat.config;

/**
 * Renders an untrusted value (a JWT header field, a claim, a request header, a path) for a log line:
 * always double-quoted, with backslash, quote and every control or line-breaking character escaped
 * ({@code \n}, {@code \r}, {@code \t}, other C0/C1 controls, U+2028/U+2029 as {@code \}{@code uXXXX}),
 * and cut to {@link #MAX_CHARS} characters. So a value can never start a forged log line or flood the
 * log, and where it begins and ends stays visible.
 */
public final class LogSafe {

  /** Characters of a value kept in the log; the rest is replaced by a count. */
  public static final int MAX_CHARS = 100;

  private LogSafe() {}

  /** {@code "value"} escaped and truncated; {@code null} for a null value (unquoted). */
  public static String quote(Object value) {
    if (value == null) {
      return "null";
    }
    String s = String.valueOf(value);
    int n = Math.min(s.length(), MAX_CHARS);
    StringBuilder out = new StringBuilder(n + 16).append('"');
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
              || Character.isSurrogate(c) && !validPair(s, i, n)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
    if (s.length() > n) {
      out.append("...(").append(s.length()).append(" chars)");
    }
    return out.toString();
  }

  /** Whether the surrogate at {@code i} is half of a complete pair inside the kept prefix. */
  private static boolean validPair(String s, int i, int n) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1));
    }
    return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
  }
}
