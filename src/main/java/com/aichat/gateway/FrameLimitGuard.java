package com.aichat.gateway;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of the pipeline: a websocket message that inflates past
 * {@code gateway.max_frame_bytes} (the permessage-deflate decoder's bound), a fragmented message that
 * grows past it (the frame aggregator's), or any other undecodable frame reaches here as an exception.
 * netty would only log it and keep the connection; this closes it, with 1009 (message too big) when
 * the size was the problem and 1002 (protocol error) otherwise.
 *
 * <p>Thread-safe and stateless: runs on Netty I/O threads.
 */
@Sharable
final class FrameLimitGuard extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(FrameLimitGuard.class);

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof DecoderException)) {
      log.warn("gateway connection {} failed: {}; closing it", ctx.channel().remoteAddress(),
          LogText.quote(cause));
      ctx.channel().close();
      return;
    }
    boolean tooBig = isTooBig(cause);
    log.info("gateway connection {} sent {}; closing it", ctx.channel().remoteAddress(),
        tooBig ? "a message larger than gateway.max_frame_bytes" : "an undecodable frame " + LogText.quote(cause));
    if (!ctx.channel().isActive()) {
      return;
    }
    if (ctx.pipeline().get(WebSocketFrameEncoder.class) == null) {
      ctx.channel().close();
      return;
    }
    WebSocketCloseStatus status = tooBig ? WebSocketCloseStatus.MESSAGE_TOO_BIG : WebSocketCloseStatus.PROTOCOL_ERROR;
    ctx.channel().writeAndFlush(new CloseWebSocketFrame(status)).addListener(ChannelFutureListener.CLOSE);
  }

  private static boolean isTooBig(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof TooLongFrameException || c instanceof DecompressionException) {
        return true;
      }
    }
    return false;
  }
}
