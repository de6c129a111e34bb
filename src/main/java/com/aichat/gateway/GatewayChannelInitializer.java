package com.aichat.gateway;

import com.corundumstudio.socketio.SocketIOChannelInitializer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;

/**
 * netty-socketio's pipeline plus the gateway's handlers. Placed before its packet handler, so they see
 * raw HTTP requests, decoded transport payloads and connection closes first: {@link RequestGuard}
 * (requests netty-socketio would log with their token), {@link LongPollCloseGuard} (a finished
 * long-poll's close must not race with the next poll), {@link ChannelRegistry} (hard close),
 * {@link UpgradeRaceFix} (no long-poll left hanging during the polling→websocket upgrade) and
 * {@link ConnectGate} (authentication of the Socket.IO CONNECT).
 * netty-socketio's permessage-deflate handler, which inflates a message without any bound, is
 * replaced by one bounded by {@code gateway.max_frame_bytes} (or removed when
 * {@code gateway.websocket_compression} is false), and {@link FrameLimitGuard} closes a connection
 * whose message breaks that bound. Registered with {@code SocketIOServer.setPipelineFactory}.
 */
final class GatewayChannelInitializer extends SocketIOChannelInitializer {

  private final RequestGuard requestGuard;
  private final ChannelRegistry registry;
  private final UpgradeRaceFix upgradeRaceFix;
  private final ConnectGate connectGate;
  private final LongPollCloseGuard longPollCloseGuard = new LongPollCloseGuard();
  private final FrameLimitGuard frameLimitGuard = new FrameLimitGuard();
  private final int maxFrameBytes;
  private final boolean websocketCompression;

  GatewayChannelInitializer(
      GatewaySettings settings,
      RequestGuard requestGuard,
      ChannelRegistry registry,
      UpgradeRaceFix upgradeRaceFix,
      ConnectGate connectGate) {
    this.requestGuard = requestGuard;
    this.registry = registry;
    this.upgradeRaceFix = upgradeRaceFix;
    this.connectGate = connectGate;
    this.maxFrameBytes = settings.maxFrameBytes();
    this.websocketCompression = settings.websocketCompression();
  }

  /** netty-socketio's worker group, learnt from the first accepted channel (see GatewayVerticle.stop). */
  private volatile EventLoopGroup childGroup;

  EventLoopGroup childGroup() {
    return childGroup;
  }

  @Override
  protected void initChannel(Channel ch) throws Exception {
    if (childGroup == null) {
      childGroup = ch.eventLoop().parent();
    }
    super.initChannel(ch);
  }

  @Override
  protected void addSocketioHandlers(ChannelPipeline pipeline) {
    super.addSocketioHandlers(pipeline);
    pipeline.addBefore(PACKET_HANDLER, "chatRequestGuard", requestGuard);
    pipeline.addBefore(PACKET_HANDLER, "chatLongPollCloseGuard", longPollCloseGuard);
    pipeline.addBefore(PACKET_HANDLER, "chatChannelRegistry", registry);
    pipeline.addBefore(PACKET_HANDLER, "chatUpgradeRaceFix", upgradeRaceFix);
    pipeline.addBefore(PACKET_HANDLER, "chatConnectGate", connectGate);
    if (pipeline.get(WEB_SOCKET_TRANSPORT_COMPRESSION) != null) {
      pipeline.remove(WEB_SOCKET_TRANSPORT_COMPRESSION);
    }
    if (websocketCompression) {
      // maxAllocation caps each frame's inflated size; the frame aggregator caps a fragmented message
      pipeline.addBefore(WEB_SOCKET_TRANSPORT, WEB_SOCKET_TRANSPORT_COMPRESSION,
          new WebSocketServerCompressionHandler(maxFrameBytes));
    }
    pipeline.addLast("chatFrameLimitGuard", frameLimitGuard);
  }
}
