package com.aichat.gateway;

import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.listener.ExceptionListener;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * netty-socketio's exception listener. Its default logs the exception text as it is, and a decoding
 * error's text can quote what the client sent (log injection). Here every text is quoted with
 * {@link LogText}, and a connection whose input could not be decoded is closed. (netty-socketio's
 * {@code InPacketHandler} also logs the raw payload of such a packet; {@code logback.xml} turns that
 * logger off.)
 */
final class GatewayExceptionListener implements ExceptionListener {

  private static final Logger log = LoggerFactory.getLogger(GatewayExceptionListener.class);

  @Override
  public void onEventException(Exception e, List<Object> args, SocketIOClient client) {
    log.error("event listener of socket {} failed: {}", client.getSessionId(), LogText.quote(e), e);
  }

  @Override
  public void onDisconnectException(Exception e, SocketIOClient client) {
    log.error("disconnect listener of socket {} failed: {}", client.getSessionId(), LogText.quote(e), e);
  }

  @Override
  public void onConnectException(Exception e, SocketIOClient client) {
    log.error("connect listener of socket {} failed: {}", client.getSessionId(), LogText.quote(e), e);
  }

  @Override
  public void onPingException(Exception e, SocketIOClient client) {
    log.warn("ping of socket {} failed: {}", client.getSessionId(), LogText.quote(e));
  }

  @Override
  public void onPongException(Exception e, SocketIOClient client) {
    log.warn("pong of socket {} failed: {}", client.getSessionId(), LogText.quote(e));
  }

  @Override
  public void onAuthException(Throwable e, SocketIOClient client) {
    log.warn("auth listener of socket {} failed: {}", client.getSessionId(), LogText.quote(e));
  }

  @Override
  public boolean exceptionCaught(ChannelHandlerContext ctx, Throwable e) {
    log.info("gateway connection {} sent input that cannot be processed ({}); closing it",
        ctx.channel().remoteAddress(), LogText.quote(e));
    ctx.channel().close();
    return true;
  }
}
