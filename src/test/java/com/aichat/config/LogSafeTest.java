package com.aichat.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LogSafeTest {

  @Test
  @DisplayName("Untrusted values are quoted, control and line-break characters escaped, long ones cut")
  void quotesEscapesAndTruncates() {
    assertThat(LogSafe.quote("rsa-1")).isEqualTo("\"rsa-1\"");
    assertThat(LogSafe.quote(null)).isEqualTo("null");
    assertThat(LogSafe.quote("a\nb\rc\td\"e\\f")).isEqualTo("\"a\\nb\\rc\\td\\\"e\\\\f\"");
    assertThat(LogSafe.quote("\u0000\u001b\u007f\u0085\u2028\u2029")).isEqualTo("\"\\u0000\\u001b\\u007f\\u0085\\u2028\\u2029\"");
    assertThat(LogSafe.quote("emoji \uD83D\uDE00 ok")).isEqualTo("\"emoji \uD83D\uDE00 ok\"");
    assertThat(LogSafe.quote("lone \uD83D")).isEqualTo("\"lone \\ud83d\"");
    String longValue = "k".repeat(5000);
    assertThat(LogSafe.quote(longValue)).isEqualTo("\"" + "k".repeat(LogSafe.MAX_CHARS) + "\"...(5000 chars)");
    assertThat(LogSafe.quote(42)).isEqualTo("\"42\"");
  }
}
