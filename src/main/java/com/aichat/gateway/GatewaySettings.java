package com.aichat.gateway;

import com.aichat.config.ConfigReader;
import java.util.List;

/**
 * {@code gateway.*}: the Socket.IO server.
 *
 * @param host {@code gateway.host} (default {@code 0.0.0.0})
 * @param port {@code gateway.port} (default 8081; 0 picks a free port, for tests)
 * @param corsOrigins {@code gateway.cors_origins} (default {@code ["*"]}): browser origins allowed to
 *     connect; {@code *} allows any. A browser handshake from another {@code Origin} is refused (HTTP 401).
 * @param authTimeoutMs {@code gateway.auth_timeout_ms} (default 1500): a connection without valid
 *     credentials is force-closed after this
 * @param writeBufferHighBytes {@code gateway.write_buffer_high_bytes} (default 1 MiB): outbound bytes
 *     a websocket may have queued in the server before it counts as too slow and is disconnected
 * @param maxQueuedPackets {@code gateway.max_queued_packets} (default 2000): packets a socket may
 *     have waiting (e.g. between two long-polling requests) before it is disconnected
 */
public record GatewaySettings(
    String host,
    int port,
    List<String> corsOrigins,
    long authTimeoutMs,
    int writeBufferHighBytes,
    int maxQueuedPackets) {

  public static GatewaySettings from(ConfigReader r) {
    return new GatewaySettings(
        r.string("host", "0.0.0.0"),
        r.intValue("port", 8081, 0, 65535),
        r.stringList("cors_origins", List.of("*")),
        r.longValue("auth_timeout_ms", 1500, 100, 60_000),
        r.intValue("write_buffer_high_bytes", 1 << 20, 64 * 1024, 64 << 20),
        r.intValue("max_queued_packets", 2000, 50, 1_000_000));
  }

  /** Whether any browser origin may connect. */
  public boolean anyOrigin() {
    return corsOrigins.contains("*");
  }
}
