package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.HandshakeData;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.ack.AckManager;
import com.corundumstudio.socketio.handler.AuthorizeHandler;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.handler.ClientsBox;
import com.corundumstudio.socketio.handler.EncoderHandler;
import com.corundumstudio.socketio.namespace.Namespace;
import com.corundumstudio.socketio.namespace.NamespacesHub;
import com.corundumstudio.socketio.protocol.EngineIOVersion;
import com.corundumstudio.socketio.protocol.JacksonJsonSupport;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketDecoder;
import com.corundumstudio.socketio.protocol.PacketEncoder;
import com.corundumstudio.socketio.protocol.PacketType;
import com.corundumstudio.socketio.scheduler.HashedWheelTimeoutScheduler;
import com.corundumstudio.socketio.transport.PollingTransport;
import com.corundumstudio.socketio.transport.WebSocketTransport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The two interleavings of a long-poll's close with the next long-poll's bind (see
 * {@link LongPollCloseGuard}), forced deterministically on netty-socketio's own ClientHead and
 * transports: the close of the old poll's connection runs on one thread, the bind of the next poll on
 * another, and a test-only {@link ClientsBox} stops one of them at the exact point where the other
 * must run. Without the guard both interleavings break the session (the tests prove the race is real
 * in the netty-socketio version in use); with it the next poll is answered and nothing else is sent.
 */
@DisplayName("A long-poll connection's close racing with the next poll's bind (netty-socketio ClientHead)")
class LongPollCloseRaceTest {

  /** Stops the calling thread in {@code remove(channel)} until released, when armed for it. */
  static final class PausingClientsBox extends ClientsBox {
    volatile Channel pauseOn;
    volatile Thread pauseThread;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch proceed = new CountDownLatch(1);

    @Override
    public void remove(Channel channel) {
      if (channel == pauseOn && Thread.currentThread() == pauseThread) {
        entered.countDown();
        try {
          proceed.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      super.remove(channel);
    }
  }

  private final Configuration config = new Configuration();
  private final HashedWheelTimeoutScheduler scheduler = new HashedWheelTimeoutScheduler();
  private final PausingClientsBox box = new PausingClientsBox();
  private final UUID sid = UUID.randomUUID();
  private PollingTransport polling;
  private WebSocketTransport websocket;
  private EncoderHandler encoder;
  private ClientHead head;

  @BeforeEach
  void setUp() throws Exception {
    config.setAddVersionHeader(false);
    JacksonJsonSupport json = new JacksonJsonSupport();
    AckManager acks = new AckManager(scheduler);
    NamespacesHub namespaces = new NamespacesHub(config);
    namespaces.create(Namespace.DEFAULT_NAME);
    AuthorizeHandler authorize = new AuthorizeHandler(SocketServerFactory.CONTEXT + "/", scheduler, config,
        namespaces, config.getStoreFactory(), client -> box.removeClient(client.getSessionId()), acks, box);
    polling = new PollingTransport(new PacketDecoder(json, acks), authorize, box);
    websocket = new WebSocketTransport(false, authorize, config, scheduler, box);
    encoder = new EncoderHandler(config, new PacketEncoder(config, json));
    Map<String, List<String>> params = Map.of("EIO", List.of("4"), "transport", List.of("polling"));
    HandshakeData handshake = new HandshakeData(new DefaultHttpHeaders(), params,
        new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8081), "/socket.io/", false);
    head = new ClientHead(sid, acks, client -> box.removeClient(client.getSessionId()), config.getStoreFactory(),
        handshake, box, Transport.POLLING, scheduler, config, params);
    box.addClient(head);
  }

  @AfterEach
  void tearDown() {
    box.proceed.countDown();
    scheduler.shutdown();
  }

  /**
   * Holds back netty-socketio's close of a connection until {@link #run} is called, and then closes
   * it on the calling thread, which therefore handles the channelInactive. On a real server that
   * event is a later task of the connection's event loop, which another loop can overtake
   * (EmbeddedChannel would handle it at once, inside the close).
   */
  static final class DeferredClose extends ChannelDuplexHandler implements Runnable {
    private volatile ChannelHandlerContext ctx;
    private volatile ChannelPromise promise;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
      this.ctx = ctx;
      this.promise = promise;
    }

    boolean closeRequested() {
      return ctx != null;
    }

    @Override
    public void run() {
      ctx.close(promise);
      ((EmbeddedChannel) ctx.channel()).runPendingTasks();
    }
  }

  private final Map<Channel, DeferredClose> closes = new java.util.concurrent.ConcurrentHashMap<>();

  /** A long-poll connection as netty-socketio's pipeline has it, with or without the guard in front. */
  private EmbeddedChannel pollConnection(boolean guarded) {
    List<ChannelHandler> handlers = new ArrayList<>();
    DeferredClose close = new DeferredClose();
    handlers.add(close);
    if (guarded) {
      handlers.add(new LongPollCloseGuard());
    }
    handlers.addAll(List.of(polling, websocket, encoder));
    EmbeddedChannel ch = new EmbeddedChannel(handlers.toArray(ChannelHandler[]::new));
    closes.put(ch, close);
    return ch;
  }

  /** The client's long-poll GET arriving on {@code ch} (netty-socketio binds it to the session). */
  private void get(EmbeddedChannel ch) {
    ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
        SocketServerFactory.CONTEXT + "/?EIO=4&transport=polling&sid=" + sid));
  }

  /** The response body written on {@code ch} so far. */
  private static String body(EmbeddedChannel ch) {
    StringBuilder sb = new StringBuilder();
    Object o;
    while ((o = ch.readOutbound()) != null) {
      if (o instanceof HttpContent c) {
        sb.append(c.content().toString(StandardCharsets.UTF_8));
        c.release();
      }
    }
    return sb.toString();
  }

  private Packet event(String name) {
    Packet p = new Packet(PacketType.MESSAGE, EngineIOVersion.V4);
    p.setSubType(PacketType.EVENT);
    p.setNsp(Namespace.DEFAULT_NAME);
    p.setName(name);
    p.setData(List.of("x"));
    return p;
  }

  /** A first poll, answered: netty-socketio has closed its connection; the close is not yet handled. */
  private EmbeddedChannel answeredPoll(boolean guarded) {
    EmbeddedChannel poll1 = pollConnection(guarded);
    get(poll1);
    head.send(event("first"));
    assertThat(body(poll1)).contains("\"first\"");
    assertThat(closes.get(poll1).closeRequested()).as("a poll's connection is closed after its response").isTrue();
    return poll1;
  }

  /**
   * Interleaving 1: the old connection's close checks that it is still the polling channel, the next
   * poll is bound, then the close clears the polling channel: the new poll is never answered.
   */
  private String releaseAfterNextBind(boolean guarded) throws Exception {
    EmbeddedChannel poll1 = answeredPoll(guarded);
    box.pauseOn = poll1;
    Thread closer = new Thread(closes.get(poll1), "old-poll-close");
    box.pauseThread = closer;
    closer.start();
    // the close is either stopped inside releasePollingChannel or (guarded) already done
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (box.entered.getCount() > 0 && closer.isAlive() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    EmbeddedChannel poll2 = pollConnection(guarded);
    get(poll2);
    box.proceed.countDown();
    closer.join(10_000);
    assertThat(closer.isAlive()).isFalse();
    head.send(event("second"));
    return body(poll2);
  }

  /**
   * Interleaving 2: the next poll is bound but the old connection is not yet out of the
   * channel→client map when the old connection's close is handled.
   */
  private String closeInsideNextBind(boolean guarded) throws Exception {
    EmbeddedChannel poll1 = answeredPoll(guarded);
    EmbeddedChannel poll2 = pollConnection(guarded);
    box.pauseOn = poll1;
    Thread binder = new Thread(() -> get(poll2), "next-poll-bind");
    box.pauseThread = binder;
    binder.start();
    assertThat(box.entered.await(10, TimeUnit.SECONDS)).as("bind reached the removal of the old channel").isTrue();
    closes.get(poll1).run(); // the old connection's close, handled while the bind is stopped
    box.proceed.countDown();
    binder.join(10_000);
    assertThat(binder.isAlive()).isFalse();
    head.send(event("second"));
    return body(poll2);
  }

  @Test
  @DisplayName("netty-socketio alone: a close that clears the polling channel after the next bind leaves that poll unanswered")
  void withoutGuardTheNextPollHangs() throws Exception {
    assertThat(releaseAfterNextBind(false)).isEmpty();
    assertThat(head.getPacketsQueue(Transport.POLLING)).as("the event waits for a poll that never comes").hasSize(1);
  }

  @Test
  @DisplayName("netty-socketio alone: a close handled inside the next bind sends DISCONNECT to the live session")
  void withoutGuardTheSessionIsToldItIsDisconnected() throws Exception {
    assertThat(closeInsideNextBind(false)).startsWith("41").doesNotContain("second");
  }

  @Test
  @DisplayName("With LongPollCloseGuard the next poll is answered with the next packet, whichever way the close and the bind interleave")
  void guardKeepsTheNextPoll() throws Exception {
    assertThat(releaseAfterNextBind(true)).isEqualTo("42[\"second\",\"x\"]");
    assertThat(head.isConnected()).isTrue();
  }

  @Test
  @DisplayName("With LongPollCloseGuard a close handled inside the next bind sends nothing to the session")
  void guardSendsNoDisconnect() throws Exception {
    assertThat(closeInsideNextBind(true)).isEqualTo("42[\"second\",\"x\"]");
    assertThat(head.isConnected()).isTrue();
  }
}
