package com.aichat.gateway;

import com.aichat.config.ConfigReader;
import java.util.List;

/**
 * {@code gateway.*}: the Socket.IO server.
 *
 * @param host {@code gateway.host} (default {@code 0.0.0.0})
 * @param port {@code gateway.port} (default 8081; 0 picks a free port, for tests)
 * @param corsOrigins {@code gateway.cors_origins} (default {@code ["*"]})
 * @param authTimeoutMs {@code gateway.auth_timeout_ms} (default 1500): a connection without valid
 *     credentials is force-closed after this
 */
public record GatewaySettings(String host, int port, List<String> corsOrigins, long authTimeoutMs) {

  public static GatewaySettings from(ConfigReader r) {
    return new GatewaySettings(
        r.string("host", "0.0.0.0"),
        r.intValue("port", 8081, 0, 65535),
        r.stringList("cors_origins", List.of("*")),
        r.longValue("auth_timeout_ms", 1500, 100, 60_000));
  }
}
