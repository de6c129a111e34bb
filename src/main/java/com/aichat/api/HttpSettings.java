package com.aichat.api;

import com.aichat.config.ConfigReader;
import java.util.List;

/**
 * {@code http.*} and {@code rate_limit.*}.
 *
 * @param host {@code http.host} (default {@code 0.0.0.0})
 * @param port {@code http.port} (default 8080; 0 picks a free port, for tests)
 * @param maxBodyBytes {@code http.max_body_bytes} (default 262144): larger bodies get 413
 * @param corsOrigins {@code http.cors_origins} (default none): browser origins allowed to call the API
 * @param requestsPerMinute {@code rate_limit.requests_per_minute} (default 600): per user, over all
 *     {@code /chats} routes; excess gets 429 {@code RATE_LIMITED}
 */
public record HttpSettings(
    String host, int port, int maxBodyBytes, List<String> corsOrigins, int requestsPerMinute) {

  public static HttpSettings from(ConfigReader http, ConfigReader rateLimit) {
    return new HttpSettings(
        http.string("host", "0.0.0.0"),
        http.intValue("port", 8080, 0, 65535),
        http.intValue("max_body_bytes", 262_144, 1024, 16 * 1024 * 1024),
        http.stringList("cors_origins", List.of()),
        rateLimit.intValue("requests_per_minute", 600, 1, 1_000_000));
  }
}
