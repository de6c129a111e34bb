package com.aichat.metrics;

import com.aichat.config.ConfigReader;

/**
 * {@code metrics.*}.
 *
 * @param enabled {@code metrics.enabled} (default true): serve {@code GET /metrics} (Prometheus text
 *     format). Off, the meters still count, but nothing serves them.
 * @param port {@code metrics.port} (default 0): 0 serves {@code /metrics} on the API's port
 *     ({@code http.port}, with the API); another port serves it there alone, on {@code http.host},
 *     also on nodes that run no API verticle. It must differ from {@code http.port} and
 *     {@code gateway.port}.
 */
public record MetricsSettings(boolean enabled, int port) {

  public static MetricsSettings from(ConfigReader metrics, int httpPort, int gatewayPort) {
    boolean enabled = metrics.bool("enabled", true);
    int port = metrics.intValue("port", 0, 0, 65535);
    if (port != 0 && (port == httpPort || port == gatewayPort)) {
      throw metrics.error("port", "must differ from http.port and gateway.port (0 serves /metrics on http.port)"
          + " but was " + port);
    }
    return new MetricsSettings(enabled, port);
  }

  /** True when {@code /metrics} is a route of the API router. */
  public boolean onApiPort() {
    return enabled && port == 0;
  }

  /** True when {@code /metrics} has a server of its own. */
  public boolean ownPort() {
    return enabled && port != 0;
  }
}
