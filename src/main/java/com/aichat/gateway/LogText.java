package com.aichat.gateway;

/**
 * Renders an untrusted value for a log line: quoted, with control characters (CR, LF, tabs, ANSI
 * escapes), quotes and backslashes escaped, and cut after {@link #MAX_CHARS}, so that a client cannot
 * forge a log line or flood the log with one value.
 */
final class LogText {

  static final int MAX_CHARS = 200;

  private LogText() {}

  static String quote(Object value) {
    if (value == null) {
      return "null";
    }
    String s = value.toString();
    StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_CHARS) + 8).append('"');
    int n = Math.min(s.length(), MAX_CHARS);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
    if (s.length() > MAX_CHARS) {
      sb.append("...(").append(s.length()).append(" chars)");
    }
    return sb.toString();
  }

  /** A request URI with the value of every {@code token} (or {@code access_token}) parameter replaced. */
  static String redactUri(String uri) {
    if (uri == null) {
      return null;
    }
    return uri.replaceAll("(?i)([?&](?:access_)?token=)[^&#]*", "$1<redacted>");
  }
}
