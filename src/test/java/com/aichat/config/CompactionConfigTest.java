package com.aichat.config;

import com.aichat.AppConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.ai.context.CompactionSettings;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("context.token_counting and context.compaction.*: defaults and validation at the edges")
class CompactionConfigTest {

  private static CompactionSettings with(JsonObject context) {
    return AppConfig.from(TestApp.defaults().mergeIn(new JsonObject().put("context", context), true)).worker().compaction();
  }

  private static JsonObject compaction(String key, Object value) {
    return new JsonObject().put("compaction", new JsonObject().put(key, value));
  }

  private static void refused(JsonObject context, String key) {
    assertThatThrownBy(() -> with(context)).isInstanceOf(ConfigException.class).hasMessageContaining(key);
  }

  @Test
  @DisplayName("shipped: compaction on, estimate counting, claude.model summaries of at most 1024 tokens, trigger 80 %, keep 40 %, chunks of 200")
  void shippedDefaults() {
    CompactionSettings c = AppConfig.from(TestApp.defaults()).worker().compaction();
    assertThat(c.enabled()).isTrue();
    assertThat(c.tokenCounting()).isEqualTo("estimate");
    assertThat(c.model()).isNull();
    assertThat(c.maxTokens()).isEqualTo(1024);
    assertThat(c.prompt()).isEqualTo(CompactionSettings.DEFAULT_PROMPT);
    assertThat(c.triggerPercent()).isEqualTo(80);
    assertThat(c.keepPercent()).isEqualTo(40);
    assertThat(c.maxChunkMessages()).isEqualTo(200);
  }

  @Test
  @DisplayName("token_counting is estimate or api, nothing else")
  void tokenCounting() {
    assertThat(with(new JsonObject().put("token_counting", "api")).tokenCounting()).isEqualTo("api");
    refused(new JsonObject().put("token_counting", "exact"), "context.token_counting");
    refused(new JsonObject().put("token_counting", 1), "context.token_counting");
  }

  @Test
  @DisplayName("max_tokens: 16 up to half of token_budget; a summary must leave room for the window")
  void maxTokensEdges() {
    assertThat(with(new JsonObject().put("token_budget", 2000).put("compaction", new JsonObject().put("max_tokens", 1000)))
        .maxTokens()).isEqualTo(1000);
    refused(new JsonObject().put("token_budget", 2000).put("compaction", new JsonObject().put("max_tokens", 1001)),
        "context.compaction.max_tokens must be at most half of context.token_budget");
    assertThat(with(compaction("max_tokens", 16)).maxTokens()).isEqualTo(16);
    refused(compaction("max_tokens", 15), "context.compaction.max_tokens");
    // a small budget lowers the default rather than refusing to start
    assertThat(with(new JsonObject().put("token_budget", 100)).maxTokens()).isEqualTo(50);
  }

  @Test
  @DisplayName("trigger_percent 10-100, keep_percent 0-95 and below the trigger, max_chunk_messages 2-10000, prompt not blank, enabled a boolean")
  void percentAndChunkEdges() {
    assertThat(with(compaction("trigger_percent", 100)).triggerPercent()).isEqualTo(100);
    JsonObject lowest = compaction("trigger_percent", 10);
    lowest.getJsonObject("compaction").put("keep_percent", 0);
    assertThat(with(lowest).keepPercent()).isZero();
    refused(compaction("trigger_percent", 9), "context.compaction.trigger_percent");
    refused(compaction("trigger_percent", 101), "context.compaction.trigger_percent");
    refused(compaction("keep_percent", 80), "context.compaction.keep_percent must be below");
    refused(compaction("keep_percent", -1), "context.compaction.keep_percent");
    assertThat(with(compaction("keep_percent", 79)).keepPercent()).isEqualTo(79);
    assertThat(with(compaction("max_chunk_messages", 2)).maxChunkMessages()).isEqualTo(2);
    assertThat(with(compaction("max_chunk_messages", 10_000)).maxChunkMessages()).isEqualTo(10_000);
    refused(compaction("max_chunk_messages", 1), "context.compaction.max_chunk_messages");
    refused(compaction("max_chunk_messages", 10_001), "context.compaction.max_chunk_messages");
    refused(compaction("prompt", "   "), "context.compaction.prompt");
    refused(compaction("enabled", "yes"), "context.compaction.enabled");
    refused(new JsonObject().put("compaction", "on"), "context.compaction");
    assertThat(with(compaction("model", "claude-haiku-4-5")).model()).isEqualTo("claude-haiku-4-5");
    assertThat(with(compaction("enabled", false)).enabled()).isFalse();
  }
}
