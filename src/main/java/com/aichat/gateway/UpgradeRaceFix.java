package com.aichat.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.PacketsMessage;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fixes the noop-ordering race of netty-socketio 2.0.13's polling→websocket upgrade. (The other race
 * that stalled upgrades, a finished long-poll's close unbinding the next poll, is
 * {@link LongPollCloseGuard}'s; the two are independent.)
 *
 * <p><b>Root cause.</b> On the websocket probe {@code 2probe}, {@code PacketListener} answers
 * {@code 3probe} on the websocket and sends ONE {@code noop} on the polling transport, to release the
 * client's pending long-poll so the client can pause polling and send {@code 5} (upgrade). The two
 * packets travel on different TCP connections. When the noop arrives before {@code 3probe}, the
 * engine.io client is still in state {@code open}, so it consumes the noop and immediately starts a new
 * long-poll; when {@code 3probe} then arrives, {@code Polling.pause()} waits for that poll to complete.
 * The server has nothing to send on it, so the upgrade (and every ack queued behind it) waits for the
 * next server ping, 25 s later, or longer. The reference server (engine.io) and python-engineio avoid
 * this by sending noops on the polling transport repeatedly while an upgrade is in progress.
 *
 * <p><b>Fix.</b> Between {@code 2probe} and {@code 5} a session is "upgrading"; every long-poll GET
 * that arrives for an upgrading session is answered at once with a {@code noop}, after netty-socketio
 * has bound it (queued packets, if any, go out first). A poll can therefore never hang during an
 * upgrade, whatever the order of arrival. The session is marked before netty-socketio sends its own
 * noop, so no poll can slip between the two.
 */
@Sharable
final class UpgradeRaceFix extends ChannelInboundHandlerAdapter {

  private static final byte[] PROBE = "2probe".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UPGRADE = "5".getBytes(StandardCharsets.US_ASCII);

  private final ConcurrentHashMap<UUID, ClientHead> upgrading = new ConcurrentHashMap<>();

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof PacketsMessage pm && pm.getTransport() == Transport.WEBSOCKET) {
      ClientHead head = pm.getClient();
      UUID sid = head.getSessionId();
      if (is(pm.getContent(), PROBE)) {
        upgrading.put(sid, head);
        ctx.channel().closeFuture().addListener(f -> upgrading.remove(sid, head));
      } else if (is(pm.getContent(), UPGRADE)) {
        upgrading.remove(sid);
      }
      ctx.fireChannelRead(msg);
      return;
    }
    if (msg instanceof FullHttpRequest req && HttpMethod.GET.equals(req.method())) {
      UUID sid = ChannelRegistry.sessionIdOf(req.uri());
      ClientHead head = sid == null ? null : upgrading.get(sid);
      ctx.fireChannelRead(msg);
      if (head != null) {
        head.send(new Packet(PacketType.NOOP, head.getEngineIOVersion()), Transport.POLLING);
      }
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private static boolean is(ByteBuf buf, byte[] text) {
    if (buf.readableBytes() != text.length) {
      return false;
    }
    for (int i = 0; i < text.length; i++) {
      if (buf.getByte(buf.readerIndex() + i) != text[i]) {
        return false;
      }
    }
    return true;
  }
}
