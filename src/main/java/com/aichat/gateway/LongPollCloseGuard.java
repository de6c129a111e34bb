package com.aichat.gateway;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import java.util.List;

/**
 * Keeps the close of a finished long-poll connection away from netty-socketio 2.0.13, whose handling
 * of it races with the next long-poll of the same session.
 *
 * <p><b>The race.</b> netty-socketio answers each long-poll GET on its own TCP connection and closes
 * that connection after the response; the client's next GET arrives on a new connection, usually
 * served by another Netty event loop. Two event loops then touch the session's polling state with no
 * lock (a plain field and a map):
 * <ul>
 *   <li>loop B, next GET: {@code PollingTransport.onGet} → {@code ClientHead.bindChannel(new, POLLING)}:
 *       (b1) polling channel := new, (b2) remove old from the channel→client map, (b3) add new, send
 *       what is queued;
 *   <li>loop A, old connection closed: {@code PollingTransport.channelInactive}: (a1) look the old
 *       channel up in the map, (a2) if it is still the polling channel, {@code releasePollingChannel}:
 *       (a3) check again, (a4) remove it from the map, (a5) polling channel := null; then
 *       {@code WebSocketTransport.channelInactive}: (a6) look the old channel up again and, if found,
 *       (a7) send a DISCONNECT packet ({@code 41}) to the client on its current transport.
 * </ul>
 * Two interleavings break a live session:
 * <ol>
 *   <li>(a1–a3) before (b1), (a5) after it: the new, unanswered poll is unbound. Every later packet is
 *       only queued, nothing ever answers the poll the client is waiting on, and the session hangs
 *       until the client's ping timeout. During an upgrade this is a stalled upgrade: the client
 *       pauses polling, waits for that poll to end, and never sends {@code 5}.
 *   <li>(b1) before (a2) and (a6) before (b2): the old channel is no longer the polling channel, so it
 *       is not released, but is still in the map, so the client is sent {@code 41} and the socket.io
 *       client drops the socket ("io server disconnect"; a pending ack fails with "socket has been
 *       disconnected").
 * </ol>
 * Both need loop A's close handling (a later task of loop A, after the response is written) to be
 * overtaken by the client's next request on loop B, i.e. loop A descheduled for a client round trip:
 * this is why the failures only showed on a loaded machine.
 *
 * <p><b>Fix.</b> {@code channelInactive} of a connection that carried a long-polling request is not
 * passed on to netty-socketio's transports. Nothing is lost: for such a connection the release only
 * cleared a reference that the next poll's bind replaces (and removes from the map) or that the
 * session's end removes, and the DISCONNECT packet was never meant for a live session. While the
 * closed connection stays referenced, netty-socketio only queues for it ({@code WRITE_ONCE} is set on
 * an answered poll; an unanswered closed one is skipped as inactive), so packets wait for the next
 * poll as they should. Websocket connections are unaffected: their close ends the session as before.
 */
@Sharable
final class LongPollCloseGuard extends ChannelInboundHandlerAdapter {

  private static final AttributeKey<Boolean> LONG_POLL = AttributeKey.valueOf("chatLongPoll");

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof FullHttpRequest req) {
      List<String> transport = new QueryStringDecoder(req.uri()).parameters().get("transport");
      boolean polling = transport != null && !transport.isEmpty() && "polling".equals(transport.get(0));
      ctx.channel().attr(LONG_POLL).set(polling ? Boolean.TRUE : null);
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (Boolean.TRUE.equals(ctx.channel().attr(LONG_POLL).get())) {
      return; // see the class comment: netty-socketio's handling of this event is the race
    }
    ctx.fireChannelInactive();
  }
}
