package com.aichat.ops;

import com.aichat.config.ConfigReader;

/**
 * {@code shutdown.*}: the graceful drain on SIGTERM ({@link Drain}).
 *
 * @param graceMs {@code shutdown.grace_ms} (default 10000, 0 to 600000): how long running generations
 *     may go on finishing after the node stopped taking new work; those still running then are handed
 *     back ({@code pending}, claim released) for another worker or the next start.
 * @param socketNoticeMs {@code shutdown.socket_notice_ms} (default 500, 0 to 10000): time between the
 *     {@code server.draining} event and the disconnect of this node's sockets.
 */
public record ShutdownSettings(long graceMs, long socketNoticeMs) {

  public static ShutdownSettings from(ConfigReader shutdown) {
    return new ShutdownSettings(
        shutdown.longValue("grace_ms", 10_000, 0, 600_000),
        shutdown.longValue("socket_notice_ms", 500, 0, 10_000));
  }
}
