package com.aichat.ai;

import com.aichat.config.ConfigReader;
import java.util.Set;

/**
 * {@code ai.*}, {@code claude.*} and {@code offline.*}: which model provider generates replies.
 *
 * <p>{@code ai.provider}: {@code auto} (default: Claude when {@code claude.api_key} /
 * {@code ANTHROPIC_API_KEY} is set, else offline), {@code claude}, or {@code offline}.
 */
public record ProviderSettings(String provider, Claude claude, Offline offline) {

  /**
   * {@code claude.*}: the Anthropic Messages API over the Vert.x WebClient.
   *
   * @param apiKey {@code claude.api_key} / {@code ANTHROPIC_API_KEY}; never logged
   * @param baseUrl {@code claude.base_url} (default {@code https://api.anthropic.com})
   * @param anthropicVersion {@code claude.anthropic_version} (default {@code 2023-06-01})
   * @param model {@code claude.model}
   * @param maxTokens {@code claude.max_tokens} (default 2048)
   * @param temperature {@code claude.temperature} (default 0.7)
   * @param systemPrompt {@code claude.system_prompt}
   * @param promptCaching {@code claude.prompt_caching} (default true): a {@code cache_control}
   *     breakpoint on the history prefix
   * @param connectTimeoutMs {@code claude.connect_timeout_ms} (default 10000)
   * @param firstEventTimeoutMs {@code claude.first_event_timeout_ms} (default 60000)
   * @param idleTimeoutMs {@code claude.idle_timeout_ms} (default 30000): between two stream events
   * @param totalTimeoutMs {@code claude.total_timeout_ms} (default 600000): one attempt at most
   */
  public record Claude(
      String apiKey,
      String baseUrl,
      String anthropicVersion,
      String model,
      int maxTokens,
      double temperature,
      String systemPrompt,
      boolean promptCaching,
      long connectTimeoutMs,
      long firstEventTimeoutMs,
      long idleTimeoutMs,
      long totalTimeoutMs) {

    /** Never prints the key. */
    @Override
    public String toString() {
      return "Claude[baseUrl=" + baseUrl + ", model=" + model + ", apiKey=" + (apiKey == null ? "unset" : "set") + "]";
    }
  }

  /**
   * {@code offline.*}: the deterministic offline model.
   *
   * @param chunkChars {@code offline.chunk_chars} (default 16): characters per streamed chunk
   * @param chunkDelayMs {@code offline.chunk_delay_ms} (default 30): delay between chunks
   */
  public record Offline(int chunkChars, long chunkDelayMs) {}

  /** True when replies come from Claude, false for the offline model. */
  public boolean useClaude() {
    return switch (provider) {
      case "claude" -> true;
      case "offline" -> false;
      default -> claude.apiKey() != null;
    };
  }

  public static ProviderSettings from(ConfigReader ai, ConfigReader c, ConfigReader o) {
    String provider = ai.oneOf("provider", "auto", Set.of("auto", "claude", "offline"));
    String baseUrl = c.optUrl("base_url");
    Claude claude =
        new Claude(
            c.optString("api_key"),
            (baseUrl == null ? "https://api.anthropic.com" : baseUrl).replaceAll("/+$", ""),
            c.string("anthropic_version", "2023-06-01"),
            c.string("model", "claude-sonnet-4-5"),
            c.intValue("max_tokens", 2048, 1, 200_000),
            c.doubleValue("temperature", 0.7, 0.0, 1.0),
            c.string("system_prompt", ""),
            c.bool("prompt_caching", true),
            c.longValue("connect_timeout_ms", 10_000, 100, 600_000),
            c.longValue("first_event_timeout_ms", 60_000, 100, 3_600_000),
            c.longValue("idle_timeout_ms", 30_000, 100, 3_600_000),
            c.longValue("total_timeout_ms", 600_000, 1000, 86_400_000));
    if (provider.equals("claude") && claude.apiKey() == null) {
      throw c.error("api_key", "is required when ai.provider is claude (or set ANTHROPIC_API_KEY)");
    }
    Offline offline =
        new Offline(o.intValue("chunk_chars", 16, 1, 100_000), o.longValue("chunk_delay_ms", 30, 0, 60_000));
    return new ProviderSettings(provider, claude, offline);
  }
}
