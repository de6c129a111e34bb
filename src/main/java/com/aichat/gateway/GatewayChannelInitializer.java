package com.aichat.gateway;

import com.corundumstudio.socketio.SocketIOChannelInitializer;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;

/**
 * netty-socketio's pipeline plus the gateway's three handlers, placed before its packet handler so
 * they see raw HTTP requests and decoded transport payloads first: {@link ChannelRegistry} (hard
 * close), {@link UpgradeRaceFix} (reliable polling→websocket upgrade) and {@link ConnectGate}
 * (authentication of the Socket.IO CONNECT). Registered with
 * {@code SocketIOServer.setPipelineFactory}.
 */
final class GatewayChannelInitializer extends SocketIOChannelInitializer {

  private final ChannelRegistry registry;
  private final UpgradeRaceFix upgradeRaceFix;
  private final ConnectGate connectGate;

  GatewayChannelInitializer(
      ChannelRegistry registry, UpgradeRaceFix upgradeRaceFix, ConnectGate connectGate) {
    this.registry = registry;
    this.upgradeRaceFix = upgradeRaceFix;
    this.connectGate = connectGate;
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
    pipeline.addBefore(PACKET_HANDLER, "chatChannelRegistry", registry);
    pipeline.addBefore(PACKET_HANDLER, "chatUpgradeRaceFix", upgradeRaceFix);
    pipeline.addBefore(PACKET_HANDLER, "chatConnectGate", connectGate);
  }
}
