package com.aichat.gateway;

import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.transport.NamespaceClient;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers every TCP channel an engine.io session has used, so that the gateway can really cut a
 * session off. netty-socketio's {@code disconnect()} only closes a channel once a disconnect packet is
 * written, which never happens for a client that stops reading or ignores refusals.
 *
 * <p>Thread-safe: runs on Netty I/O threads; {@link #forceClose} may be called from any thread.
 */
@Sharable
final class ChannelRegistry extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(ChannelRegistry.class);
  /** Lets a final disconnect packet reach a well-behaved client before its channels are closed. */
  private static final long CLOSE_DELAY_MS = 100;

  private final ConcurrentHashMap<UUID, Set<Channel>> channels = new ConcurrentHashMap<>();
  private volatile Function<UUID, SocketIOClient> clientLookup = id -> null;

  void clientLookup(Function<UUID, SocketIOClient> lookup) {
    this.clientLookup = lookup;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof FullHttpRequest req)) {
      ctx.fireChannelRead(msg);
      return;
    }
    UUID sid = sessionIdOf(req.uri());
    ctx.fireChannelRead(msg);
    if (sid == null) {
      // the handshake request: AuthorizeHandler has just attached the new session to this channel
      ClientHead head = ctx.channel().attr(ClientHead.CLIENT).get();
      sid = head == null ? null : head.getSessionId();
    }
    if (sid != null) {
      track(sid, ctx.channel());
    }
  }

  private void track(UUID sid, Channel channel) {
    channels.computeIfAbsent(sid, k -> ConcurrentHashMap.newKeySet()).add(channel);
    channel.closeFuture().addListener(f -> channels.computeIfPresent(sid, (k, set) -> {
      set.remove(channel);
      return set.isEmpty() ? null : set;
    }));
  }

  /**
   * Ends a session for good: netty-socketio's own cleanup (rooms, namespaces, session table) and, a
   * moment later, a hard close of every channel the session still holds.
   */
  void forceClose(UUID sid) {
    SocketIOClient client = clientLookup.apply(sid);
    if (client instanceof NamespaceClient nc) {
      nc.getBaseClient().disconnect();
    }
    Set<Channel> open = channels.remove(sid);
    if (open != null) {
      for (Channel ch : open) {
        ch.eventLoop().schedule(() -> ch.close(), CLOSE_DELAY_MS, TimeUnit.MILLISECONDS);
      }
    }
    log.debug("session {} force-closed ({} channels)", sid, open == null ? 0 : open.size());
  }

  static UUID sessionIdOf(String uri) {
    List<String> sid = new QueryStringDecoder(uri).parameters().get("sid");
    if (sid == null || sid.isEmpty()) {
      return null;
    }
    try {
      return UUID.fromString(sid.get(0));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
