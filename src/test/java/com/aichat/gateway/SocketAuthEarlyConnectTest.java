package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.auth.AuthenticatedUser;
import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.HandshakeData;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.Transport;
import com.corundumstudio.socketio.ack.AckManager;
import com.corundumstudio.socketio.handler.ClientHead;
import com.corundumstudio.socketio.handler.ClientsBox;
import com.corundumstudio.socketio.namespace.Namespace;
import com.corundumstudio.socketio.namespace.NamespacesHub;
import com.corundumstudio.socketio.protocol.Packet;
import com.corundumstudio.socketio.protocol.PacketType;
import com.corundumstudio.socketio.scheduler.HashedWheelTimeoutScheduler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The CONNECT that overtakes the namespace: netty-socketio writes the open packet on the handshake's
 * thread and only then adds the connection to the default namespace, while the client answers the open
 * packet with its CONNECT at once, on another connection. Under CPU load the CONNECT's token can be
 * verified before the connection is in the namespace. Real netty-socketio objects, with that order
 * forced: the session is created, the CONNECT verified, and only then added to the namespace.
 */
class SocketAuthEarlyConnectTest {

  private static final long AUTH_TIMEOUT_MS = 300;

  private final Configuration config = new Configuration();
  private final HashedWheelTimeoutScheduler scheduler = new HashedWheelTimeoutScheduler();
  private final ClientsBox box = new ClientsBox();
  private final Set<UUID> forceClosed = ConcurrentHashMap.newKeySet();
  private Vertx vertx;
  private Context context;
  private Namespace namespace;
  private SocketAuth auth;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    NamespacesHub namespaces = new NamespacesHub(config);
    namespace = namespaces.create(Namespace.DEFAULT_NAME);
    ChannelRegistry registry = new ChannelRegistry();
    registry.clientLookup(sid -> {
      forceClosed.add(sid);
      return null;
    });
    auth = new SocketAuth(vertx, token -> Future.succeededFuture(new AuthenticatedUser("user-" + token, new JsonObject(), null)),
        namespace, new SocketSender(registry, 100), AUTH_TIMEOUT_MS, 5, sid -> { });
  }

  @AfterEach
  void tearDown() throws Exception {
    scheduler.shutdown();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private ClientHead newSession() {
    Map<String, List<String>> params = Map.of("EIO", List.of("4"), "transport", List.of("polling"));
    HandshakeData handshake = new HandshakeData(new DefaultHttpHeaders(), params,
        new InetSocketAddress("127.0.0.1", 40000), new InetSocketAddress("127.0.0.1", 8081), "/socket.io/", false);
    ClientHead head = new ClientHead(UUID.randomUUID(), new AckManager(scheduler),
        client -> box.removeClient(client.getSessionId()), config.getStoreFactory(), handshake, box, Transport.POLLING,
        scheduler, config, params);
    box.addClient(head);
    return head;
  }

  /** Runs {@code work} on the gateway's context (where SocketAuth lives), after everything queued there. */
  private <T> T onContext(Callable<T> work) throws Exception {
    return Future.<T>future(p -> context.runOnContext(v -> {
      try {
        p.complete(work.call());
      } catch (Exception e) {
        p.fail(e);
      }
    })).await(10, TimeUnit.SECONDS);
  }

  private static boolean connectAckQueued(ClientHead head) {
    for (Packet p : head.getPacketsQueue(Transport.POLLING)) {
      if (p.getType() == PacketType.MESSAGE && p.getSubType() == PacketType.CONNECT) {
        return true;
      }
    }
    return false;
  }

  @Test
  @DisplayName("A CONNECT verified before its connection joined the namespace is accepted once it joins: bound to its user, CONNECT acknowledged")
  void earlyConnectIsAcceptedOnceInTheNamespace() throws Exception {
    ClientHead head = newSession();
    onContext(() -> {
      auth.onConnectPacket(head, new JsonObject().put("token", "a"));
      return null;
    });
    assertThat(onContext(() -> auth.binding(head.getSessionId()))).as("not in the namespace yet").isNull();
    assertThat(connectAckQueued(head)).isFalse();

    SocketIOClient client = head.addNamespaceClient(namespace);
    onContext(() -> {
      auth.onEngineConnect(head.getSessionId());
      return null;
    });
    SocketAuth.Binding binding = onContext(() -> auth.binding(head.getSessionId()));
    assertThat(binding).isNotNull();
    assertThat(binding.userId()).isEqualTo("user-a");
    assertThat(binding.client()).isSameAs(client);
    assertThat(connectAckQueued(head)).as("the CONNECT is acknowledged").isTrue();
    assertThat(forceClosed).isEmpty();
  }

  @Test
  @DisplayName("A verified CONNECT whose connection never joins the namespace is closed after auth_timeout_ms")
  void earlyConnectThatNeverJoinsIsClosed() throws Exception {
    ClientHead head = newSession();
    onContext(() -> {
      auth.onConnectPacket(head, new JsonObject().put("token", "b"));
      return null;
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!forceClosed.contains(head.getSessionId()) && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
    assertThat(forceClosed).containsExactly(head.getSessionId());
    assertThat(onContext(() -> auth.binding(head.getSessionId()))).isNull();
  }
}
