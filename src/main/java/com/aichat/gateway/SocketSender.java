package com.aichat.gateway;

import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends events to sockets with bounded buffers, so that one slow client cannot slow the others or the
 * worker: sending never waits, and a socket whose backlog is over the limit is disconnected instead
 * of buffering without bound. Over websocket the limit is the channel's write-buffer high water mark
 * ({@code gateway.write_buffer_high_bytes}); over long-polling, the number of packets waiting for the
 * next poll ({@code gateway.max_queued_packets}). A disconnected client reconnects and rejoins, and the
 * join ack gives it the text so far (see docs/events.md).
 */
final class SocketSender {

  private static final Logger log = LoggerFactory.getLogger(SocketSender.class);

  /** Slow sockets already cut off, so one that is hit again before its channel closes counts once. */
  private static final int RECENT_SLOW = 1024;

  private final ChannelRegistry registry;
  private final int maxQueuedPackets;
  private final Runnable onSlowDisconnect;
  private final Set<UUID> recentSlow = Collections.synchronizedSet(Collections.newSetFromMap(
      new LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<UUID, Boolean> eldest) {
          return size() > RECENT_SLOW;
        }
      }));

  SocketSender(ChannelRegistry registry, int maxQueuedPackets) {
    this(registry, maxQueuedPackets, () -> {});
  }

  /** {@code onSlowDisconnect} runs once per socket cut off for being too slow (a metric). */
  SocketSender(ChannelRegistry registry, int maxQueuedPackets, Runnable onSlowDisconnect) {
    this.registry = registry;
    this.maxQueuedPackets = maxQueuedPackets;
    this.onSlowDisconnect = onSlowDisconnect;
  }

  /** Sends one event; false if the socket is gone or was too slow and has been disconnected instead. */
  boolean send(SocketIOClient client, String event, JsonObject payload) {
    if (client instanceof NamespaceClient nc && !nc.getBaseClient().isConnected()) {
      return false;
    }
    if (tooSlow(client)) {
      if (recentSlow.add(client.getSessionId())) {
        log.warn("socket {} cannot keep up with its events; disconnecting it", client.getSessionId());
        onSlowDisconnect.run();
      }
      forceClose(client.getSessionId());
      return false;
    }
    client.sendEvent(event, payload);
    return true;
  }

  void forceClose(UUID sid) {
    registry.forceClose(sid);
  }

  private boolean tooSlow(SocketIOClient client) {
    if (!(client instanceof NamespaceClient nc)) {
      return false;
    }
    ClientHead head = nc.getBaseClient();
    Transport transport = head.getCurrentTransport();
    if (head.getPacketsQueue(transport).size() >= maxQueuedPackets) {
      return true;
    }
    return transport == Transport.WEBSOCKET && head.isChannelOpen() && !head.isWritable();
  }
}
