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
 * @param headerTimeoutMs {@code http.header_timeout_ms} (default 10000; 0 = none): a new connection
 *     whose first request's headers are not complete by then is closed
 * @param idleTimeoutMs {@code http.idle_timeout_ms} (default 60000; 0 = none): a kept-alive connection
 *     with no request in progress is closed after this long without a new request
 * @param maxConnectionsPerIp {@code http.max_connections_per_ip} (default 256; 0 = no cap): open
 *     connections from one remote address on this node; more are closed at once
 */
public record HttpSettings(
    String host,
    int port,
    int maxBodyBytes,
    List<String> corsOrigins,
    int requestsPerMinute,
    long headerTimeoutMs,
    long idleTimeoutMs,
    int maxConnectionsPerIp) {

  /** These settings listening on {@code newHost}. */
  public HttpSettings withHost(String newHost) {
    return new HttpSettings(newHost, port, maxBodyBytes, corsOrigins, requestsPerMinute, headerTimeoutMs,
        idleTimeoutMs, maxConnectionsPerIp);
  }

  public static HttpSettings from(ConfigReader http, ConfigReader rateLimit) {
    return new HttpSettings(
        http.string("host", "0.0.0.0"),
        http.intValue("port", 8080, 0, 65535),
        http.intValue("max_body_bytes", 262_144, 1024, 16 * 1024 * 1024),
        http.stringList("cors_origins", List.of()),
        rateLimit.intValue("requests_per_minute", 600, 1, 1_000_000),
        http.longValue("header_timeout_ms", 10_000, 0, 600_000),
        http.longValue("idle_timeout_ms", 60_000, 0, 3_600_000),
        http.intValue("max_connections_per_ip", 256, 0, 1_000_000));
  }
}
