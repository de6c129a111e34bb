package com.aichat.ai.provider;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.provider.ProviderException.Kind;
import io.vertx.core.json.JsonObject;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Classification of Anthropic errors and retry-after")
class ClaudeErrorClassificationTest {

  private static JsonObject error(String type) {
    return new JsonObject().put("type", type).put("message", "provider text that must not leak");
  }

  @Test
  @DisplayName("statuses and error types map to retryable or permanent failures with stable codes")
  void classification() {
    assertThat(ClaudeClient.classifyErrorType(error("rate_limit_error"), 429, 2000, false))
        .satisfies(e -> {
          assertThat(e.kind()).isEqualTo(Kind.RETRYABLE);
          assertThat(e.code()).isEqualTo("provider_rate_limited");
          assertThat(e.retryAfterMs()).isEqualTo(2000);
        });
    assertThat(ClaudeClient.classifyErrorType(error("overloaded_error"), 529, -1, false).code())
        .isEqualTo("provider_overloaded");
    assertThat(ClaudeClient.classifyErrorType(error("overloaded_error"), 0, -1, true).kind())
        .isEqualTo(Kind.RETRYABLE);
    assertThat(ClaudeClient.classifyErrorType(new JsonObject(), 503, -1, false).kind()).isEqualTo(Kind.RETRYABLE);
    assertThat(ClaudeClient.classifyErrorType(error("something_new"), 0, -1, true).code())
        .isEqualTo("provider_stream_error");
    for (int status : new int[] {400, 401, 403, 404, 413}) {
      ProviderException e = ClaudeClient.classifyErrorType(error("x"), status, -1, false);
      assertThat(e.kind()).as("HTTP %d", status).isEqualTo(Kind.PERMANENT);
      assertThat(e.getMessage()).as("HTTP %d", status).doesNotContain("must not leak");
    }
    assertThat(ClaudeClient.classifyErrorType(error("x"), 418, -1, false).kind()).isEqualTo(Kind.PERMANENT);
  }

  @Test
  @DisplayName("retry-after is read as (fractional) seconds or as an HTTP date; junk and absence give -1")
  void retryAfter() {
    assertThat(ClaudeClient.retryAfterMs("3")).isEqualTo(3000);
    assertThat(ClaudeClient.retryAfterMs("0.25")).isEqualTo(250);
    assertThat(ClaudeClient.retryAfterMs(null)).isEqualTo(-1);
    assertThat(ClaudeClient.retryAfterMs("soon")).isEqualTo(-1);
    String inTenSeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(10));
    assertThat(ClaudeClient.retryAfterMs(inTenSeconds)).isBetween(8_000L, 10_000L);
  }
}
