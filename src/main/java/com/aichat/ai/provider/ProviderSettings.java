package com.aichat.ai.provider;

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
   * @param totalTimeoutMs {@code claude.total_timeout_ms} (default 600000): one attempt at most, counted
   *     from the moment the request is on the wire (time spent waiting for a connection is not counted)
   * @param maxConnections {@code claude.max_connections} (default 0 = {@code worker.max_concurrent}, so
   *     the pool never caps a worker instance below its job limit): connections to the Messages API per
   *     worker instance. Over HTTP/1.1 each carries one stream at a time; over HTTP/2 each carries as
   *     many streams as the server allows, and new connections open only when those are full
   * @param connectionWaitTimeoutMs {@code claude.connection_wait_timeout_ms} (default 300000): how long
   *     a request may wait for a pooled connection (including opening a new one) before the attempt
   *     fails, retryable, as {@code provider_pool_exhausted}. Not part of the first-event, idle or
   *     total timeouts; at least {@code claude.connect_timeout_ms}
   * @param http2 {@code claude.http2} (default true): offer HTTP/2 by ALPN on an {@code https} base URL,
   *     falling back to HTTP/1.1 when the server does not select it. An {@code http} base URL always
   *     speaks HTTP/1.1 (no cleartext h2c upgrade)
   * @param maxWaitQueue the pool's wait queue: {@code worker.max_concurrent}, the most requests one
   *     worker instance can have at once, so the queue never refuses one of its jobs (derived, no key)
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
      long totalTimeoutMs,
      int maxConnections,
      long connectionWaitTimeoutMs,
      boolean http2,
      int maxWaitQueue) {

    /** Never prints the key. */
    @Override
    public String toString() {
      return "Claude[baseUrl=" + baseUrl + ", model=" + model + ", maxConnections=" + maxConnections
          + ", http2=" + http2 + ", apiKey=" + (apiKey == null ? "unset" : "set") + "]";
    }
  }

  /**
   * {@code offline.*}: the deterministic offline model.
   *
   * @param chunkChars {@code offline.chunk_chars} (default 16): characters per streamed chunk
   * @param chunkDelayMs {@code offline.chunk_delay_ms} (default 30): delay between chunks
   */
  public record Offline(int chunkChars, long chunkDelayMs) {}

  private static int resolveMaxConnections(ConfigReader c, int workerMaxConcurrent) {
    int configured = c.intValue("max_connections", 0, 0, 100_000);
    return configured == 0 ? Math.max(1, workerMaxConcurrent) : configured;
  }

  /** True when replies come from Claude, false for the offline model. */
  public boolean useClaude() {
    return switch (provider) {
      case "claude" -> true;
      case "offline" -> false;
      default -> claude.apiKey() != null;
    };
  }

  /**
   * Reads the provider sections. {@code workerMaxConcurrent} is the resolved per-instance job limit
   * ({@link WorkerSettings#maxConcurrent()}): the default connection pool and its wait queue are sized
   * from it.
   */
  public static ProviderSettings from(ConfigReader ai, ConfigReader c, ConfigReader o, int workerMaxConcurrent) {
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
            c.longValue("total_timeout_ms", 600_000, 1000, 86_400_000),
            resolveMaxConnections(c, workerMaxConcurrent),
            c.longValue("connection_wait_timeout_ms", 300_000, 100, 86_400_000),
            c.bool("http2", true),
            Math.max(1, workerMaxConcurrent));
    if (claude.connectionWaitTimeoutMs() < claude.connectTimeoutMs()) {
      throw c.error("connection_wait_timeout_ms",
          "must be at least claude.connect_timeout_ms (" + claude.connectTimeoutMs() + ")");
    }
    if (provider.equals("claude") && claude.apiKey() == null) {
      throw c.error("api_key", "is required when ai.provider is claude (or set ANTHROPIC_API_KEY)");
    }
    Offline offline =
        new Offline(o.intValue("chunk_chars", 16, 1, 100_000), o.longValue("chunk_delay_ms", 30, 0, 60_000));
    return new ProviderSettings(provider, claude, offline);
  }
}
