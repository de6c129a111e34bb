package com.aichat.api;

import com.aichat.config.LogSafe;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connection limits of the REST server that Vert.x has no option for (issue 10 finding 7):
 *
 * <ul>
 *   <li>{@code http.header_timeout_ms}: a new connection whose first request's headers have not all
 *       arrived in time is closed (slow-header clients, "slowloris");
 *   <li>{@code http.idle_timeout_ms}: a kept-alive connection with no request in progress is closed
 *       when the next request's headers have not arrived this long after the previous response;
 *   <li>{@code http.max_connections_per_ip}: connections from one remote address beyond this many are
 *       closed as soon as they open, counted over all API instances of the node.
 * </ul>
 *
 * A timer per connection runs while no request is in progress: it starts when the connection opens
 * and whenever its last request's response ends, and is cancelled when Vert.x hands over a request
 * (which it does only once the headers are complete). A request in progress is not timed here, so a
 * long-running push to {@code /internal/chat-ai-worker} is not cut. One guard per API verticle
 * instance: its connections and their timers live on that instance's event loop.
 */
final class ConnectionGuard {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);
  private static final String SHARED_MAP = "chat.http.connections-per-ip";
  private static final long WARN_INTERVAL_MS = 60_000;

  /** Open connections per remote address, shared by the API instances serving one port. */
  private static final class IpCounts implements Shareable {
    final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    final AtomicLong lastWarn = new AtomicLong();
  }

  private static final class Conn {
    final String ip;
    long timer = -1;
    int inFlight;

    Conn(String ip) {
      this.ip = ip;
    }
  }

  private final Vertx vertx;
  private final long headerTimeoutMs;
  private final long idleTimeoutMs;
  private final int maxPerIp;
  private final IpCounts ipCounts;
  private final Map<HttpConnection, Conn> conns = new HashMap<>();

  ConnectionGuard(Vertx vertx, HttpSettings settings) {
    this.vertx = vertx;
    this.headerTimeoutMs = settings.headerTimeoutMs();
    this.idleTimeoutMs = settings.idleTimeoutMs();
    this.maxPerIp = settings.maxConnectionsPerIp();
    LocalMap<Integer, IpCounts> shared = vertx.sharedData().getLocalMap(SHARED_MAP);
    IpCounts fresh = new IpCounts();
    IpCounts existing = shared.putIfAbsent(settings.port(), fresh);
    this.ipCounts = existing == null ? fresh : existing;
  }

  /** The server's connection handler. */
  void onConnection(HttpConnection connection) {
    String ip = connection.remoteAddress() == null ? "unknown" : connection.remoteAddress().hostAddress();
    if (maxPerIp > 0) {
      AtomicInteger n = ipCounts.counts.computeIfAbsent(ip, k -> new AtomicInteger());
      if (n.incrementAndGet() > maxPerIp) {
        release(ip);
        warnRefused(ip);
        connection.close();
        return;
      }
    }
    Conn c = new Conn(ip);
    conns.put(connection, c);
    arm(connection, c, headerTimeoutMs);
    connection.closeHandler(v -> {
      Conn gone = conns.remove(connection);
      if (gone != null) {
        cancel(gone);
        if (maxPerIp > 0) {
          release(gone.ip);
        }
      }
    });
  }

  /** Wraps the router: a request's headers are complete, so its connection's timer stops. */
  void onRequest(HttpServerRequest request) {
    Conn c = conns.get(request.connection());
    if (c != null) {
      cancel(c);
      c.inFlight++;
    }
  }

  /** A first router handler: when the response ends, the connection waits for its next request. */
  void trackEnd(RoutingContext ctx) {
    HttpConnection connection = ctx.request().connection();
    ctx.addEndHandler(ar -> {
      Conn c = conns.get(connection);
      if (c != null && --c.inFlight <= 0) {
        c.inFlight = 0;
        arm(connection, c, idleTimeoutMs);
      }
    });
    ctx.next();
  }

  private void arm(HttpConnection connection, Conn c, long ms) {
    cancel(c);
    if (ms > 0) {
      c.timer = vertx.setTimer(ms, id -> {
        c.timer = -1;
        connection.close();
      });
    }
  }

  private void cancel(Conn c) {
    if (c.timer >= 0) {
      vertx.cancelTimer(c.timer);
      c.timer = -1;
    }
  }

  private void release(String ip) {
    ipCounts.counts.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
  }

  private void warnRefused(String ip) {
    long now = System.currentTimeMillis();
    long last = ipCounts.lastWarn.get();
    if (now - last >= WARN_INTERVAL_MS && ipCounts.lastWarn.compareAndSet(last, now)) {
      log.warn("refusing connections from {}: more than http.max_connections_per_ip ({}) open"
          + " (logged at most once a minute)", LogSafe.quote(ip), maxPerIp);
    }
  }
}
