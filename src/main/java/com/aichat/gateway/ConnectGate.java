package com.aichat.gateway;

import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.messages.PacketsMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Takes every Socket.IO CONNECT packet for the default namespace ({@code 40} or
 * {@code 40{...auth...}}) away from netty-socketio, whose own handling admits a client that sends no
 * {@code auth} and keeps answering a refused one. The packet goes to the
 * {@link ConnectHandler}, which verifies the credentials asynchronously on Vert.x and then either
 * acknowledges the connect or refuses it. A long-polling payload may carry several packets: only its
 * first CONNECT is handled, and any further one is dropped, never passed on. Other packets pass
 * unchanged.
 *
 * <p>Runs on Netty I/O threads and keeps no state.
 */
@Sharable
final class ConnectGate extends ChannelInboundHandlerAdapter {

  /** Receives intercepted CONNECT packets; called on a Netty thread, must not block. */
  interface ConnectHandler {
    /** {@code auth} is the packet's auth object, or null when the client sent none. */
    void onConnectPacket(ClientHead head, JsonObject auth);
  }

  private static final char SEPARATOR = '\u001e';

  private final ConnectHandler handler;

  ConnectGate(ConnectHandler handler) {
    this.handler = handler;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof PacketsMessage pm) || !mayHoldConnect(pm.getContent())) {
      ctx.fireChannelRead(msg);
      return;
    }
    String text = pm.getContent().toString(StandardCharsets.UTF_8);
    List<String> parts = pm.getTransport() == Transport.POLLING ? split(text) : List.of(text);
    String connect = null;
    List<String> others = new ArrayList<>();
    for (String p : parts) {
      if (!isDefaultNamespaceConnect(p)) {
        others.add(p);
      } else if (connect == null) {
        connect = p;
      }
      // a further CONNECT in the same payload is dropped: handed on, netty-socketio would admit it
    }
    if (connect == null) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (!others.isEmpty()) {
      ByteBuf rest =
          Unpooled.copiedBuffer(String.join(String.valueOf(SEPARATOR), others), StandardCharsets.UTF_8);
      try {
        ctx.fireChannelRead(new PacketsMessage(pm.getClient(), rest, pm.getTransport()));
      } finally {
        rest.release();
      }
    }
    handler.onConnectPacket(pm.getClient(), authOf(connect));
  }

  /** Cheap pre-check: a CONNECT can only be present if some packet starts with "40". */
  private static boolean mayHoldConnect(ByteBuf buf) {
    int n = buf.readableBytes();
    int start = buf.readerIndex();
    for (int i = 0; i + 1 < n; i++) {
      boolean packetStart = i == 0 || buf.getByte(start + i - 1) == SEPARATOR;
      if (packetStart && buf.getByte(start + i) == '4' && buf.getByte(start + i + 1) == '0') {
        return true;
      }
    }
    return false;
  }

  private static boolean isDefaultNamespaceConnect(String packet) {
    return packet.startsWith("40") && (packet.length() == 2 || packet.charAt(2) == '{');
  }

  private static JsonObject authOf(String connect) {
    if (connect.length() <= 2) {
      return null;
    }
    try {
      return new JsonObject(connect.substring(2));
    } catch (DecodeException | ClassCastException e) {
      return new JsonObject();
    }
  }

  private static List<String> split(String payload) {
    List<String> out = new ArrayList<>();
    int from = 0;
    for (int i = 0; i <= payload.length(); i++) {
      if (i == payload.length() || payload.charAt(i) == SEPARATOR) {
        out.add(payload.substring(from, i));
        from = i + 1;
      }
    }
    return out;
  }
}
