package com.aichat.gateway;

import com.corundumstudio.socketio.AckMode;
import com.corundumstudio.socketio.AuthorizationResult;
import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.HandshakeData;
import com.corundumstudio.socketio.SocketConfig;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import io.vertx.core.json.jackson.VertxModule;

/**
 * Builds the netty-socketio server from {@link GatewaySettings}: engine.io v4 only, random session
 * ids (never taken from a client cookie), CORS for {@code gateway.cors_origins}, bounded write
 * buffers, Vert.x JSON types serialized natively, and the gateway's own pipeline handlers.
 */
final class SocketServerFactory {

  /** netty-socketio's request path prefix (its default), as socket.io-client uses it. */
  static final String CONTEXT = "/socket.io";

  private SocketServerFactory() {}

  static SocketIOServer create(GatewaySettings settings, GatewayChannelInitializer pipeline) {
    Configuration config = new Configuration();
    config.setHostname(settings.host());
    config.setContext(CONTEXT);
    config.setPort(settings.port());
    config.setTransports(Transport.POLLING, Transport.WEBSOCKET);
    config.setRandomSession(true);
    // acks are sent from the Vert.x context after async work; AUTO would send an empty ack first
    config.setAckMode(AckMode.MANUAL);
    config.setAddVersionHeader(false);
    // one bound for a websocket message (after inflating, see GatewayChannelInitializer) and a poll body
    config.setMaxFramePayloadLength(settings.maxFrameBytes());
    config.setMaxHttpContentLength(settings.maxFrameBytes());
    config.setWebsocketCompression(settings.websocketCompression());
    config.setJsonSupport(new JacksonJsonSupport(new VertxModule()));
    config.setExceptionListener(new GatewayExceptionListener());
    // CORS: netty-socketio echoes the request's Origin; the handshake check below limits which
    config.setEnableCors(true);
    config.setOrigin(null);
    config.setAllowHeaders("Authorization, Content-Type");
    config.setAuthorizationListener(data -> handshakeAllowed(settings, data)
        ? AuthorizationResult.SUCCESSFUL_AUTHORIZATION
        : AuthorizationResult.FAILED_AUTHORIZATION);

    SocketConfig socket = config.getSocketConfig();
    socket.setReuseAddress(true);
    socket.setTcpNoDelay(true);
    socket.setWriteBufferWaterMarkLow(settings.writeBufferHighBytes() / 2);
    socket.setWriteBufferWaterMarkHigh(settings.writeBufferHighBytes());

    SocketIOServer server = new SocketIOServer(config);
    server.setPipelineFactory(pipeline);
    return server;
  }

  /**
   * Only engine.io protocol 4 (socket.io-client v3/v4), and, for browsers, only allowed origins.
   * Credentials are not checked here: they arrive with the Socket.IO CONNECT ({@link ConnectGate}).
   */
  static boolean handshakeAllowed(GatewaySettings settings, HandshakeData data) {
    if (!"4".equals(data.getSingleUrlParam("EIO"))) {
      return false;
    }
    String origin = data.getHttpHeaders().get("Origin");
    return origin == null || settings.anyOrigin() || settings.corsOrigins().contains(origin);
  }
}
