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
 * @param maxFrameBytes {@code gateway.max_frame_bytes} (default 65536): the largest websocket message
 *     and long-polling request body, counted after permessage-deflate decompression; a larger one
 *     closes the connection (websocket close 1009)
 * @param websocketCompression {@code gateway.websocket_compression} (default true): whether websocket
 *     permessage-deflate may be negotiated (inflated size bounded by {@code max_frame_bytes})
 * @param maxSocketsPerUser {@code gateway.max_sockets_per_user} (default 20): authenticated sockets
 *     one user may hold on this node; one more is refused with {@code TOO_MANY_SOCKETS}
 * @param eventRatePerSec {@code gateway.event_rate_per_sec} (default 10): sustained client events
 *     (join, leave) per second per socket; beyond it (and the burst) an event is answered
 *     {@code RATE_LIMITED} without being served
 * @param eventBurst {@code gateway.event_burst} (default 30): events a socket may send at once
 *     before the rate applies
 * @param maxRejectedEvents {@code gateway.max_rejected_events} (default 50): rate-limited events in
 *     a row (with none served between them) after which the socket is disconnected
 */
public record GatewaySettings(
    String host,
    int port,
    List<String> corsOrigins,
    long authTimeoutMs,
    int writeBufferHighBytes,
    int maxQueuedPackets,
    int maxFrameBytes,
    boolean websocketCompression,
    int maxSocketsPerUser,
    int eventRatePerSec,
    int eventBurst,
    int maxRejectedEvents) {

  public static GatewaySettings from(ConfigReader r) {
    return new GatewaySettings(
        r.string("host", "0.0.0.0"),
        r.intValue("port", 8081, 0, 65535),
        r.stringList("cors_origins", List.of("*")),
        r.longValue("auth_timeout_ms", 1500, 100, 60_000),
        r.intValue("write_buffer_high_bytes", 1 << 20, 64 * 1024, 64 << 20),
        r.intValue("max_queued_packets", 2000, 50, 1_000_000),
        r.intValue("max_frame_bytes", 64 * 1024, 4 * 1024, 16 << 20),
        r.bool("websocket_compression", true),
        r.intValue("max_sockets_per_user", 20, 1, 100_000),
        r.intValue("event_rate_per_sec", 10, 1, 100_000),
        r.intValue("event_burst", 30, 1, 1_000_000),
        r.intValue("max_rejected_events", 50, 1, 1_000_000));
  }

  /** These settings listening on {@code newHost}. */
  public GatewaySettings withHost(String newHost) {
    return new GatewaySettings(newHost, port, corsOrigins, authTimeoutMs, writeBufferHighBytes, maxQueuedPackets,
        maxFrameBytes, websocketCompression, maxSocketsPerUser, eventRatePerSec, eventBurst, maxRejectedEvents);
  }

  /** Whether any browser origin may connect. */
  public boolean anyOrigin() {
    return corsOrigins.contains("*");
  }
}
