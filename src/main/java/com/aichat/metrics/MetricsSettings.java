package com.aichat.metrics;

import com.aichat.config.ConfigReader;

/**
 * {@code metrics.*}.
 *
 * @param enabled {@code metrics.enabled} (default true): serve {@code GET /metrics} (Prometheus text
 *     format). Off, the meters still count, but nothing serves them.
 * @param port {@code metrics.port} (default 0): 0 serves {@code /metrics} on the API's port
 *     ({@code http.port}, with the API), but only while the API listens on loopback or
 *     {@code metrics.token} is set (the metrics show token totals and socket counts); another port
 *     (the management port) serves it there alone, on {@code http.host}, also on nodes that run no API
 *     verticle. It must differ from {@code http.port} and {@code gateway.port}.
 * @param token {@code metrics.token} (default empty; at least 16 characters): when set, {@code /metrics}
 *     answers only requests with {@code Authorization: Bearer <token>} (401 {@code UNAUTHENTICATED}
 *     otherwise), on either port
 * @param maxTagValues {@code metrics.max_tag_values} (default 100): distinct values kept of each label
 *     a client can influence on the HTTP server meters ({@code method}, {@code route}, {@code code});
 *     later ones are recorded as {@code OTHER} (see {@link MetricsSetup})
 */
public record MetricsSettings(boolean enabled, int port, String token, int maxTagValues) {

  public static MetricsSettings from(ConfigReader metrics, int httpPort, int gatewayPort) {
    boolean enabled = metrics.bool("enabled", true);
    int port = metrics.intValue("port", 0, 0, 65535);
    if (port != 0 && (port == httpPort || port == gatewayPort)) {
      throw metrics.error("port", "must differ from http.port and gateway.port (0 serves /metrics on http.port)"
          + " but was " + port);
    }
    String token = metrics.optString("token");
    if (token != null && token.length() < 16) {
      throw metrics.error("token", "must be at least 16 characters");
    }
    return new MetricsSettings(enabled, port, token, metrics.intValue("max_tag_values", 100, 10, 10_000));
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "MetricsSettings[enabled=" + enabled + ", port=" + port + ", token=" + (token == null ? "unset" : "set")
        + ", maxTagValues=" + maxTagValues + "]";
  }

  /** True when {@code /metrics} is meant for the API's port ({@code metrics.port} 0). */
  public boolean onApiPort() {
    return enabled && port == 0;
  }

  /**
   * True when {@code /metrics} is a route of the API router on an API listening on {@code apiHost}:
   * {@link #onApiPort()}, and the API is on loopback or a token guards the metrics.
   */
  public boolean servedOnApiPort(String apiHost) {
    return onApiPort() && (token != null || ConfigReader.isLoopbackHost(apiHost));
  }

  /** True when {@code /metrics} has a server of its own. */
  public boolean ownPort() {
    return enabled && port != 0;
  }
}
