package com.aichat.gateway;

import static io.netty.handler.codec.http.HttpVersion.HTTP_1_1;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the HTTP requests that netty-socketio would log with their full URL or all their query
 * parameters ({@code AuthorizeHandler}: "Got no transports for request ...", {@code WrongUrlHandler}:
 * "Blocked wrong socket.io-context request! ... params"): a request URL may carry the JWT as a
 * {@code token} query parameter, and a log is no place for it. Such a request gets the same answer
 * netty-socketio gives (400), and only its redacted, quoted path is logged, at debug.
 *
 * <p>Thread-safe and stateless: runs on Netty I/O threads.
 */
@Sharable
final class RequestGuard extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);
  private static final byte[] TRANSPORT_UNKNOWN =
      "{\"code\":0,\"message\":\"Transport unknown\"}".getBytes(StandardCharsets.UTF_8);

  private final String connectPath;

  RequestGuard(String context) {
    this.connectPath = context + "/";
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof FullHttpRequest req)) {
      ctx.fireChannelRead(msg);
      return;
    }
    QueryStringDecoder query = new QueryStringDecoder(req.uri());
    boolean refused;
    if (!query.path().equals(connectPath)) {
      refused = true;
    } else {
      List<String> transport = query.parameters().get("transport");
      refused = transport == null || transport.isEmpty() || !isKnownTransport(transport.get(0));
    }
    if (!refused) {
      ctx.fireChannelRead(msg);
      return;
    }
    req.release();
    log.debug("refused a request for {} from {}", LogText.quote(LogText.redactUri(query.path())),
        ctx.channel().remoteAddress());
    FullHttpResponse res = new DefaultFullHttpResponse(HTTP_1_1, HttpResponseStatus.BAD_REQUEST,
        Unpooled.wrappedBuffer(TRANSPORT_UNKNOWN));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, TRANSPORT_UNKNOWN.length);
    ctx.channel().writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
  }

  private static boolean isKnownTransport(String t) {
    return "polling".equalsIgnoreCase(t) || "websocket".equalsIgnoreCase(t);
  }
}
