package com.aichat.gateway;

import com.aichat.auth.AuthSettings;
import com.aichat.auth.JwtTokenVerifier;
import com.aichat.auth.TokenVerifier;
import com.aichat.contract.Addresses;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Ids;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.QueuedEvent;
import com.aichat.contract.SessionEvent;
import com.aichat.metrics.Metrics;
import com.aichat.persistence.Conversations;
import com.corundumstudio.socketio.AckRequest;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.namespace.Namespace;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Socket.IO gateway: a netty-socketio server on {@code gateway.port} that
 * authenticates sockets with the REST API's JWT rules, manages the {@code user:<id>} and
 * {@code session:<id>} rooms, and forwards the bus's domain events to them. Event names and payloads:
 * {@link SocketEvents} and {@code docs/events.md}.
 *
 * <p>Threads: netty-socketio calls its listeners on Netty threads; every listener only posts the work
 * to this verticle's context, where all gateway state lives ({@link SocketAuth}, {@link SessionRooms}).
 * Sending to sockets uses netty-socketio's thread-safe API. One instance per node (it binds a port).
 */
public final class GatewayVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(GatewayVerticle.class);

  private final GatewaySettings settings;
  private final AuthSettings authSettings;
  private SocketIOServer server;
  private GatewayChannelInitializer pipeline;
  private EventLoopGroup acceptGroup;
  private ChannelRegistry registry;
  private SocketAuth auth;
  private SessionRooms rooms;
  private SocketSender sender;
  private EventRateLimiter rateLimiter;
  /** Sockets being cut off for their event rate: events still in flight on them are dropped, logged once. */
  private final Set<UUID> cutOff = ConcurrentHashMap.newKeySet();
  /** How often full (idle) per-user event buckets are dropped. */
  private static final long RATE_EVICT_INTERVAL_MS = 30_000;

  public GatewayVerticle(GatewaySettings settings, AuthSettings authSettings) {
    this.settings = settings;
    this.authSettings = authSettings;
  }

  @Override
  public Future<?> start() {
    return JwtTokenVerifier.create(vertx, authSettings)
        .compose(this::startServer)
        .compose(v -> registerConsumers())
        .onSuccess(v -> log.info("Socket.IO gateway listening on {}:{}", settings.host(), settings.port()));
  }

  private Future<Void> startServer(TokenVerifier verifier) {
    Context ctx = context;
    registry = new ChannelRegistry();
    ConnectGate gate = new ConnectGate((head, authData) -> ctx.runOnContext(v -> auth.onConnectPacket(head, authData)));
    pipeline = new GatewayChannelInitializer(
        settings, new RequestGuard(SocketServerFactory.CONTEXT), registry, new UpgradeRaceFix(), gate);
    server = SocketServerFactory.create(settings, pipeline);
    rateLimiter = new EventRateLimiter(
        settings.eventRatePerSec(), settings.eventBurst(), settings.maxRejectedEvents(), System::nanoTime);
    vertx.setPeriodic(RATE_EVICT_INTERVAL_MS, t -> rateLimiter.evictIdle());
    registry.clientLookup(server::getClient);
    Metrics metrics = Metrics.of(vertx);
    sender = new SocketSender(registry, settings.maxQueuedPackets(), metrics::slowDisconnect);
    rooms = new SessionRooms(vertx, Conversations.client(vertx), sender);
    Namespace namespace = (Namespace) server.getNamespace(Namespace.DEFAULT_NAME);
    auth = new SocketAuth(vertx, verifier, namespace, sender, settings.authTimeoutMs(),
        settings.maxSocketsPerUser(), rooms::leaveAll);

    server.addConnectListener(client -> ctx.runOnContext(v -> auth.onEngineConnect(client.getSessionId())));
    server.addDisconnectListener(client -> ctx.runOnContext(v -> onSocketGone(client.getSessionId())));
    server.addEventListener(SocketEvents.JOIN, Object.class,
        (client, data, ack) -> ctx.runOnContext(v -> onJoin(client, data, ack)));
    server.addEventListener(SocketEvents.LEAVE, Object.class,
        (client, data, ack) -> ctx.runOnContext(v -> onLeave(client, data, ack)));

    // Netty reports the bind on its own thread. The rest of start() (registerConsumers) must run on this
    // verticle's context: a bus consumer runs on the context it is registered from, and one registered
    // from a Netty thread got a context of its own, so bus events reached SessionRooms on another event
    // loop than the joins and leaves that mutate the same rooms (a data race: lost buffered events,
    // HashMap corruption). So the result is handed back to the context first.
    Promise<Void> listening = Promise.promise();
    server.startAsync().addListener(f -> ctx.runOnContext(v -> {
      if (f.isSuccess()) {
        if (f instanceof ChannelFuture bound) {
          acceptGroup = bound.channel().eventLoop().parent();
        }
        listening.complete();
      } else {
        listening.fail(new IllegalStateException(
            "Socket.IO gateway cannot listen on " + settings.host() + ":" + settings.port() + ": "
                + f.cause().getMessage(), f.cause()));
      }
    }));
    return listening.future();
  }

  private Future<Void> registerConsumers() {
    List<MessageConsumer<JsonObject>> consumers = List.of(
        vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
          if (MessageEvent.QUEUED.equals(m.body().getString("type"))) {
            rooms.onQueued(QueuedEvent.fromJson(m.body()));
          } else {
            rooms.onMessageEvent(MessageEvent.fromJson(m.body()));
          }
        }),
        vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA,
            m -> rooms.onDelta(DeltaEvent.fromJson(m.body()))),
        vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_SESSION,
            m -> onSessionEvent(SessionEvent.fromJson(m.body()))),
        vertx.eventBus().<JsonObject>localConsumer(Addresses.NODE_DRAINING,
            m -> onDraining(m.body().getLong("socketNoticeMs", 0L))));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList()).mapEmpty();
  }

  @Override
  public Future<?> stop() {
    SocketIOServer s = server;
    if (s == null) {
      return Future.succeededFuture();
    }
    // SocketIOServer.stop() waits for its Netty groups to shut down with Netty's default 2 s quiet
    // period; starting their shutdown without a quiet period first makes it return at once
    List<EventLoopGroup> groups = new ArrayList<>();
    groups.add(acceptGroup);
    groups.add(pipeline.childGroup());
    return vertx.executeBlocking(() -> {
      long started = System.nanoTime();
      groups.stream().filter(Objects::nonNull).forEach(g -> g.shutdownGracefully(0, 2, TimeUnit.SECONDS));
      s.stop();
      log.info("Socket.IO gateway stopped in {} ms", (System.nanoTime() - started) / 1_000_000);
      return null;
    });
  }

  /**
   * The node drains: every socket gets {@link SocketEvents#SERVER_DRAINING}, then, {@code noticeMs}
   * later, is disconnected; new sockets are refused meanwhile ({@link SocketAuth}).
   */
  private void onDraining(long noticeMs) {
    List<SocketIOClient> clients = new ArrayList<>(server.getAllClients());
    log.info("node draining: telling {} sockets to reconnect elsewhere, disconnecting them in {} ms",
        clients.size(), noticeMs);
    JsonObject notice = new JsonObject().put("reason", "shutdown").put("reconnect", true)
        .put("disconnectInMs", noticeMs);
    clients.forEach(c -> sender.send(c, SocketEvents.SERVER_DRAINING, notice));
    vertx.setTimer(Math.max(1, noticeMs), t -> clients.forEach(c -> sender.forceClose(c.getSessionId())));
  }

  private void onSessionEvent(SessionEvent e) {
    JsonObject payload = e.session() != null ? e.session().toJson() : new JsonObject().put("id", e.sessionId());
    if (SessionEvent.DELETED.equals(e.type())) {
      // dropSession normalises the id: a room is keyed by the lower-case form a join stored
      rooms.dropSession(e.sessionId());
    }
    for (SocketIOClient client : server.getRoomOperations(SocketEvents.userRoom(e.userId())).getClients()) {
      sender.send(client, e.type(), payload);
    }
  }

  private void onSocketGone(UUID sid) {
    cutOff.remove(sid);
    auth.onDisconnect(sid);
    rooms.leaveAll(sid);
  }

  private void onJoin(SocketIOClient client, Object data, AckRequest ack) {
    SocketAuth.Binding b = boundOrRefuse(client);
    String sessionId = b == null || !withinRate(b, SocketEvents.JOIN, ack) ? null : sessionIdOf(data, ack);
    if (sessionId == null) {
      return;
    }
    // the socket may go (or be re-bound) while the ownership check is in flight: its leaveAll has
    // then already run, so the join must not add a membership any more
    rooms.join(b.sid(), b.userId(), b.client(), sessionId, () -> auth.binding(b.sid()) == b,
            body -> ack.sendAckData(body))
        .onFailure(err -> ack.sendAckData(error(ErrorCode.fromThrowable(err), safeMessage(err))));
  }

  private void onLeave(SocketIOClient client, Object data, AckRequest ack) {
    SocketAuth.Binding b = boundOrRefuse(client);
    String sessionId = b == null || !withinRate(b, SocketEvents.LEAVE, ack) ? null : sessionIdOf(data, ack);
    if (sessionId == null) {
      return;
    }
    rooms.leave(b.sid(), sessionId);
    if (ack.isAckRequested()) {
      ack.sendAckData(new JsonObject().put("ok", true));
    }
  }

  /** Every handler refuses a socket without a bound user, and cuts it off. */
  private SocketAuth.Binding boundOrRefuse(SocketIOClient client) {
    SocketAuth.Binding b = auth.binding(client.getSessionId());
    if (b == null) {
      // not even an error ack: an unauthenticated connection gets no answer at all
      log.info("socket {} sent an event without being authenticated; closing it", client.getSessionId());
      sender.forceClose(client.getSessionId());
    }
    return b;
  }

  /**
   * The per-user event rate ({@link EventRateLimiter}): an event over it is answered
   * {@code RATE_LIMITED} and not served; a socket that keeps sending over it is disconnected.
   */
  private boolean withinRate(SocketAuth.Binding b, String event, AckRequest ack) {
    switch (rateLimiter.onEvent(b.userId())) {
      case SERVE -> {
        return true;
      }
      case REFUSE -> {
        if (ack.isAckRequested()) {
          ack.sendAckData(error(ErrorCode.RATE_LIMITED, "too many events; slow down"));
        }
        return false;
      }
      default -> {
        if (ack.isAckRequested()) {
          ack.sendAckData(error(ErrorCode.RATE_LIMITED, "too many events; disconnected"));
        }
        if (cutOff.add(b.sid())) { // once per socket: events still in flight on it are only answered
          log.warn("socket {} (user {}) kept sending events over gateway.event_rate_per_sec ({} refused in a row,"
              + " last {}); disconnecting it", b.sid(), b.userId(), settings.maxRejectedEvents(), event);
          sender.forceClose(b.sid());
        }
        return false;
      }
    }
  }

  /** The event's {@code sessionId} in its one form (lower-case hex); anything else is refused. */
  private static String sessionIdOf(Object data, AckRequest ack) {
    Object id = data instanceof Map<?, ?> m ? m.get("sessionId") : null;
    String sessionId = Ids.normalize(id);
    if (sessionId != null) {
      return sessionId;
    }
    if (ack.isAckRequested()) {
      ack.sendAckData(error(ErrorCode.VALIDATION_FAILED, "sessionId must be a 24-hex id"));
    }
    return null;
  }

  private static JsonObject error(ErrorCode code, String message) {
    return new JsonObject()
        .put("ok", false)
        .put("error", new JsonObject().put("code", code.name()).put("message", message));
  }

  static String safeMessage(Throwable err) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (code == ErrorCode.NOT_FOUND) {
      return "session not found";
    }
    // 5xx: a bus timeout or missing handler carries internal addresses in its text; never show it
    return code.httpStatus() >= 500 || err.getMessage() == null ? code.defaultMessage() : err.getMessage();
  }
}
