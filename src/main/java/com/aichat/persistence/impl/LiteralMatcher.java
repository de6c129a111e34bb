package com.aichat.persistence.impl;

/**
 * A case-insensitive literal substring search in time linear in the text's length, whatever the
 * query (Knuth–Morris–Pratt over case-folded UTF-16 units). Search uses it instead of a regex: a
 * backtracking matcher, even on an escaped literal, costs up to query length × text length per text
 * (a 200-character query against 32,000-character messages took seconds per request).
 *
 * <p>Folding is per UTF-16 unit ({@code toLowerCase(toUpperCase(c))}, as Java's {@code UNICODE_CASE}
 * compares), so it never changes a text's length and match offsets are offsets in the original text.
 */
final class LiteralMatcher {

  private final char[] needle;
  private final int[] failure;

  LiteralMatcher(String query) {
    needle = new char[query.length()];
    for (int i = 0; i < needle.length; i++) {
      needle[i] = fold(query.charAt(i));
    }
    failure = new int[needle.length];
    int k = 0;
    for (int i = 1; i < needle.length; i++) {
      while (k > 0 && needle[i] != needle[k]) {
        k = failure[k - 1];
      }
      if (needle[i] == needle[k]) {
        k++;
      }
      failure[i] = k;
    }
  }

  /** Length of the query in UTF-16 units (a match's length). */
  int length() {
    return needle.length;
  }

  /** Index of the first match in {@code text} at or after {@code from}, or -1. */
  int indexIn(CharSequence text, int from) {
    if (needle.length == 0) {
      return Math.min(from, text.length());
    }
    int k = 0;
    for (int i = Math.max(0, from); i < text.length(); i++) {
      char c = fold(text.charAt(i));
      while (k > 0 && c != needle[k]) {
        k = failure[k - 1];
      }
      if (c == needle[k]) {
        k++;
        if (k == needle.length) {
          return i - needle.length + 1;
        }
      }
    }
    return -1;
  }

  static char fold(char c) {
    if (c < 128) {
      return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }
    return Character.toLowerCase(Character.toUpperCase(c));
  }

  /** The UTF-8 size of {@code text} (what a store holds and sends for it), in one pass. */
  static long utf8Bytes(CharSequence text) {
    long n = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
    }
    return n;
  }
}
