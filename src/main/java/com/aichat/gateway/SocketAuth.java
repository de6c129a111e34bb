package com.aichat.gateway;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.auth.TokenVerifier;
import com.aichat.contract.ErrorCode;
import com.aichat.metrics.Metrics;
import com.aichat.ops.NodeLifecycle;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.namespace.Namespace;
import com.corundumstudio.socketio.protocol.ConnPacket;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Socket authentication and the socket → user binding. Everything here runs on the gateway
 * verticle's context (Netty threads only post to it), so the maps need no locking.
 *
 * <p>Rules: a socket is bound to a user, and joins {@code user:<userId>}, only after its CONNECT
 * carried a token that the shared {@link TokenVerifier} accepts. A refused CONNECT gets
 * {@code connect_error} with a reason, and its connection is force-closed shortly after. A connection
 * with no bound user after {@code gateway.auth_timeout_ms} is force-closed. A bound socket is
 * disconnected when its token expires. A user holds at most {@code gateway.max_sockets_per_user}
 * bound sockets on this node; the CONNECT of one more is refused with {@code TOO_MANY_SOCKETS}.
 */
final class SocketAuth {

  private static final Logger log = LoggerFactory.getLogger(SocketAuth.class);
  /** Time for a refused client to receive its connect_error (e.g. on its next poll) before the cut. */
  static final long REFUSAL_GRACE_MS = 300;

  /** A socket whose user is known. */
  record Binding(UUID sid, String userId, SocketIOClient client, long expiryTimer) {}

  /** A verified CONNECT that came before netty-socketio added the connection to the namespace. */
  private record Early(ClientHead head, AuthenticatedUser user, long timer) {}

  private final Vertx vertx;
  private final TokenVerifier verifier;
  private final Namespace namespace;
  private final SocketSender sender;
  private final long authTimeoutMs;
  private final int maxSocketsPerUser;
  private final Consumer<UUID> onUnbind;
  private final Map<UUID, Binding> bindings = new HashMap<>();
  private final Map<UUID, Long> authDeadlines = new HashMap<>();
  private final Map<String, Integer> socketsPerUser = new HashMap<>();
  private final Map<UUID, Early> early = new HashMap<>();

  SocketAuth(
      Vertx vertx,
      TokenVerifier verifier,
      Namespace namespace,
      SocketSender sender,
      long authTimeoutMs,
      int maxSocketsPerUser,
      Consumer<UUID> onUnbind) {
    this.vertx = vertx;
    this.verifier = verifier;
    this.namespace = namespace;
    this.sender = sender;
    this.authTimeoutMs = authTimeoutMs;
    this.maxSocketsPerUser = maxSocketsPerUser;
    this.onUnbind = onUnbind;
  }

  Binding binding(UUID sid) {
    return bindings.get(sid);
  }

  /**
   * A new engine.io connection, now in the default namespace: it has {@code auth_timeout_ms} to
   * authenticate. A CONNECT verified before this point is accepted now.
   */
  void onEngineConnect(UUID sid) {
    authDeadlines.put(sid, vertx.setTimer(authTimeoutMs, t -> authDeadlinePassed(sid)));
    Early waiting = early.remove(sid);
    if (waiting != null) {
      vertx.cancelTimer(waiting.timer());
      accept(waiting.head(), waiting.user());
    }
  }

  private void authDeadlinePassed(UUID sid) {
    authDeadlines.remove(sid);
    if (!bindings.containsKey(sid)) {
      log.info("socket {} sent no valid credentials within {} ms; closing it", sid, authTimeoutMs);
      sender.forceClose(sid);
    }
  }

  /** A CONNECT packet for the default namespace (from {@link ConnectGate}). */
  void onConnectPacket(ClientHead head, JsonObject auth) {
    if (NodeLifecycle.of(vertx).draining()) {
      refuse(head, ErrorCode.DRAINING, "server is shutting down; reconnect");
      return;
    }
    String token = tokenOf(head, auth);
    if (token == null) {
      refuse(head, ErrorCode.UNAUTHENTICATED, "missing token");
      return;
    }
    verifier
        .verify(token)
        .onSuccess(user -> accept(head, user))
        .onFailure(err -> refuse(head, ErrorCode.fromThrowable(err), safeReason(err)));
  }

  /** Token from {@code auth.token}, else the {@code token} query parameter, else a Bearer header. */
  static String tokenOf(ClientHead head, JsonObject auth) {
    if (auth != null && auth.getValue("token") instanceof String t && !t.isBlank()) {
      return t;
    }
    String query = head.getHandshakeData().getSingleUrlParam("token");
    if (query != null && !query.isBlank()) {
      return query;
    }
    String header = head.getHandshakeData().getHttpHeaders().get("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) && header.length() > 7) {
      return header.substring(7).trim();
    }
    return null;
  }

  private void accept(ClientHead head, AuthenticatedUser user) {
    UUID sid = head.getSessionId();
    if (!head.isConnected()) {
      return;
    }
    SocketIOClient client = head.getChildClient(namespace);
    if (client == null) {
      // netty-socketio adds a connection to the default namespace on the Netty thread that served its
      // handshake, just after it wrote the open packet. The client answers that packet with its
      // CONNECT at once, on another connection and thread, so under CPU load the CONNECT can be
      // verified before the connection is in the namespace; it is accepted once it is
      // (onEngineConnect), and closed if that does not happen within auth_timeout_ms.
      Early previous = early.put(sid, new Early(head, user, vertx.setTimer(authTimeoutMs, t -> {
        if (early.remove(sid) != null) {
          log.info("socket {} never joined the namespace within {} ms; closing it", sid, authTimeoutMs);
          sender.forceClose(sid);
        }
      })));
      if (previous != null) {
        vertx.cancelTimer(previous.timer());
      }
      return;
    }
    Binding previous = bindings.remove(sid);
    if (previous != null) {
      unbind(previous);
    }
    if (socketsPerUser.getOrDefault(user.userId(), 0) >= maxSocketsPerUser) {
      refuse(head, ErrorCode.TOO_MANY_SOCKETS,
          "too many connections for this user (at most " + maxSocketsPerUser + "); close another one");
      return;
    }
    Long deadline = authDeadlines.remove(sid);
    if (deadline != null) {
      vertx.cancelTimer(deadline);
    }
    long expiryTimer = -1;
    if (user.expiresAt() != null) {
      long ms = Math.max(1, Duration.between(Instant.now(), user.expiresAt()).toMillis());
      expiryTimer = vertx.setTimer(ms, t -> expire(sid));
    }
    bindings.put(sid, new Binding(sid, user.userId(), client, expiryTimer));
    socketsPerUser.merge(user.userId(), 1, Integer::sum);
    Metrics.of(vertx).socketConnected();
    client.joinRoom(SocketEvents.userRoom(user.userId()));
    Packet ack = new Packet(PacketType.MESSAGE, head.getEngineIOVersion());
    ack.setSubType(PacketType.CONNECT);
    ack.setNsp(Namespace.DEFAULT_NAME);
    ack.setData(new ConnPacket(sid));
    head.send(ack);
    log.debug("socket {} authenticated as user {}", sid, user.userId());
  }

  private void refuse(ClientHead head, ErrorCode code, String reason) {
    UUID sid = head.getSessionId();
    Binding previous = bindings.remove(sid);
    if (previous != null) {
      unbind(previous);
    }
    Map<String, Object> data = new HashMap<>();
    data.put("message", reason);
    data.put("data", Map.of("code", code.name()));
    Packet error = new Packet(PacketType.MESSAGE, head.getEngineIOVersion());
    error.setSubType(PacketType.ERROR);
    error.setNsp(Namespace.DEFAULT_NAME);
    error.setData(data);
    head.send(error);
    log.info("socket {} refused: {}", sid, LogText.quote(reason));
    vertx.setTimer(REFUSAL_GRACE_MS, t -> {
      if (!bindings.containsKey(sid)) {
        sender.forceClose(sid);
      }
    });
  }

  private void expire(UUID sid) {
    Binding b = bindings.get(sid);
    if (b == null) {
      return;
    }
    log.info("token of socket {} (user {}) expired; disconnecting it", sid, b.userId());
    b.client().sendEvent(SocketEvents.AUTH_EXPIRED, new JsonObject().put("message", "token expired"));
    bindings.remove(sid);
    unbind(b);
    sender.forceClose(sid);
  }

  /** The socket is gone (netty-socketio disconnect): forget everything about it. */
  void onDisconnect(UUID sid) {
    Early waiting = early.remove(sid);
    if (waiting != null) {
      vertx.cancelTimer(waiting.timer());
    }
    Long deadline = authDeadlines.remove(sid);
    if (deadline != null) {
      vertx.cancelTimer(deadline);
    }
    Binding b = bindings.remove(sid);
    if (b != null) {
      unbind(b);
    }
  }

  private void unbind(Binding b) {
    Metrics.of(vertx).socketGone();
    if (b.expiryTimer() >= 0) {
      vertx.cancelTimer(b.expiryTimer());
    }
    socketsPerUser.computeIfPresent(b.userId(), (k, n) -> n > 1 ? n - 1 : null);
    b.client().leaveRoom(SocketEvents.userRoom(b.userId()));
    onUnbind.accept(b.sid());
  }

  private static String safeReason(Throwable err) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (code == ErrorCode.UNAUTHENTICATED && err.getMessage() != null) {
      return err.getMessage();
    }
    return code == ErrorCode.UNAVAILABLE ? "authentication unavailable, retry later" : "invalid token";
  }
}
