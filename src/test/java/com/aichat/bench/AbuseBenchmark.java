package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.auth.DevSecretStore;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.WebClient;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.zip.Deflater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 10 "keep it closed": one node with the shipped limits ({@code rate_limit.requests_per_minute} 600,
 * {@code gateway.max_sockets_per_user} 20, the gateway's event rate, frame and compression limits, the REST
 * header/idle timeouts and per-IP cap) while a well-behaved user streams replies. Its client sends one
 * message at a time over REST and measures POST → first {@code message.delta} on its own Socket.IO
 * websocket (a minimal Engine.IO v4 client over the Vert.x WebSocketClient, joined to its session).
 * <ol>
 *   <li>idle: {@code bench.replies} replies (after 5 warm-up ones) with nothing else running;</li>
 *   <li>abuse: the same while a bounded flood runs from another user and raw connections:
 *     (a) {@value #BOMBS_PER_SEC}/s new websockets negotiating permessage-deflate, each sending one
 *     compressed text frame of ~16 KB that inflates to {@value #BOMB_MIB} MiB, before authenticating;
 *     (b) {@value #JOIN_SOCKETS} authenticated sockets emitting {@code join} as fast as the flood allows
 *     (reconnecting when disconnected); (c) {@value #SENDERS} concurrent loops POSTing messages; (d)
 *     {@value #SLOW_PER_PORT} slowloris connections to each of the REST and gateway ports, sending a header
 *     byte every {@value #SLOW_BYTE_MS} ms and reconnecting when closed; and, since issue 24, the
 *     {@link ResourceAttackers}: (e) {@value ResourceAttackers#STALLED_EXPORTS} stalled exports of another
 *     user's {@value ResourceAttackers#EXPORT_MESSAGES}-message session of 16 KB messages, (f)
 *     {@value ResourceAttackers#SEARCH_LOOPS} loops of hostile searches by a user with
 *     {@value ResourceAttackers#SEARCH_MESSAGES} messages of 32,000 characters, (g) a {@code POST /dev/token}
 *     flood at ~{@value ResourceAttackers#DEV_TOKENS_PER_SEC}/s from one address.</li>
 * </ol>
 * The node runs on the embedded default's auth, the generated dev secret (so {@code POST /dev/token}, the
 * web client's one-click sign-in, is mounted, with its shipped per-address limit
 * {@code auth.dev_tokens_per_minute}; loopback, so {@code auth.dev_public_bind} false is fine, and
 * {@code auth.dev_with_api_key} because the fake Claude has a key); the benchmark signs its users'
 * tokens with that secret. The data of (e) and (f) is bulk-inserted through the embedded store's wire
 * port before the idle phase.
 * The fake Claude streams 20 words, a chunk a millisecond. Attackers run in the same JVM as the node
 * (one process, the machine's 2 cores). Reports both distributions, their ratio, what each attacker got,
 * heap (MemoryMXBean, after a GC) before the flood, with every attacker still on after the measured
 * replies, and after, and {@code /health} at the end. PASS when the abuse p50 is within 2× of the idle
 * p50, every measured reply streamed, the heap after a GC with every attacker on is less than
 * {@value #HEAP_BOUND_MIB} MiB above the one before the flood, and the node answers {@code /health}.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.AbuseBenchmark [-Dbench.replies=20]}
 */
public final class AbuseBenchmark {

  private static final Logger log = LoggerFactory.getLogger(AbuseBenchmark.class);
  private static final int WARMUP = 5;
  private static final long GAP_MS = 500;
  static final int BOMBS_PER_SEC = 5;
  static final int BOMB_MIB = 16;
  static final int JOIN_SOCKETS = 5;
  static final int SENDERS = 4;
  static final int SLOW_PER_PORT = 50;
  static final long SLOW_BYTE_MS = 500;
  /** Heap growth allowed over the pre-flood heap (after a GC) with every attacker on. */
  static final int HEAP_BOUND_MIB = 64;
  /** The flood runs at least this long, so that slow connections meet the 10 s header timeout. */
  private static final long MIN_FLOOD_MS = 15_000;

  private final int replies = Math.max(1, Math.min(100, Integer.getInteger("bench.replies", 20)));
  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private volatile boolean flooding;

  // outcome counters
  private final AtomicLong bombsSent = new AtomicLong();
  private final AtomicLong bombsClosed1009 = new AtomicLong();
  private final AtomicLong bombsClosedOther = new AtomicLong();
  private final AtomicLong bombsRefused = new AtomicLong();
  private final AtomicLong joinsSent = new AtomicLong();
  private final AtomicLong joinsOk = new AtomicLong();
  private final AtomicLong joinsRateLimited = new AtomicLong();
  private final AtomicLong joinsOtherError = new AtomicLong();
  private final AtomicLong joinSocketsConnected = new AtomicLong();
  private final AtomicLong joinSocketsDisconnected = new AtomicLong();
  private final AtomicLong joinConnectRefused = new AtomicLong();
  private final Map<String, AtomicLong> sendOutcomes = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> slowOpened = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> slowClosed = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> slowRefused = new ConcurrentHashMap<>();
  private final Map<String, List<Long>> slowLifetimes = new ConcurrentHashMap<>();
  private final AtomicLong heapPeak = new AtomicLong();

  public static void main(String[] args) {
    Bench.run("AbuseBenchmark", 300, vertx -> new AbuseBenchmark().run(vertx));
  }

  /**
   * The shipped limits, restored over {@link Bench#overrides}' measuring ones, and the embedded default's
   * auth (the generated dev secret, so {@code POST /dev/token} is mounted) with the store's wire port.
   */
  private static JsonObject shippedLimits(int mongoPort) {
    return new JsonObject()
        .put("rate_limit", new JsonObject().put("requests_per_minute", 600))
        .put("gateway", new JsonObject().put("max_sockets_per_user", 20).put("event_rate_per_sec", 10).put("event_burst", 30))
        .put("quota", new JsonObject().put("max_pending_replies", 5))
        .put("auth", new JsonObject().put("hs256_secret", "").put("dev_with_api_key", true))
        .put("mongo", new JsonObject().put("embedded_port", mongoPort));
  }

  private Future<Boolean> run(Vertx vertx) {
    byte[] bombFrame = bombFrame(BOMB_MIB << 20);
    int mongoPort = com.aichat.testing.TestApp.freePort();
    return Bench.start(vertx, "memory", shippedLimits(mongoPort)).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(20), 1));
      int httpPort = h.app().httpPort();
      int gwPort = h.app().gatewayPort();
      WebClient http = Bench.client(vertx, 2);
      WebClient attackHttp = Bench.client(vertx, SENDERS);
      WebClient searchHttp = Bench.client(vertx, ResourceAttackers.SEARCH_LOOPS);
      WebClient devHttp = Bench.client(vertx, 8);
      WebSocketClient wsc = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100));
      NetClient net = vertx.createNetClient(new NetClientOptions().setConnectTimeout(5_000));
      MongoClient direct = MongoClient.create(vertx, new JsonObject()
          .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
      ResourceAttackers resources = new ResourceAttackers(vertx, httpPort);
      Good good = new Good();
      List<Long> idle = new ArrayList<>();
      List<Long> abused = new ArrayList<>();
      long[] heap = new long[3];
      long[] exportPages = {-1};
      long[] floodStart = new long[1];
      // the well-behaved user, the flooder, the export victim, the searcher
      String[] users = {GenerationHarness.newUserId(), GenerationHarness.newUserId(), GenerationHarness.newUserId(),
          GenerationHarness.newUserId()};
      String[] tokens = new String[users.length];
      String[] sids = new String[users.length];
      return DevSecretStore.loadOrCreate(vertx, h.app().config().auth().devSecretFile())
          .compose(secret -> {
            for (int i = 0; i < tokens.length; i++) {
              tokens[i] = TestTokens.token(vertx, secret, new JsonObject().put("sub", users[i]), 3600);
            }
            return Bench.newSession(http, httpPort, tokens[0], "well-behaved").onSuccess(id -> sids[0] = id);
          })
          .compose(x -> Bench.newSession(attackHttp, httpPort, tokens[1], "attacker").onSuccess(id -> sids[1] = id))
          .compose(x -> Bench.newSession(http, httpPort, tokens[2], "long export").onSuccess(id -> sids[2] = id))
          .compose(x -> Bench.newSession(http, httpPort, tokens[3], "long texts").onSuccess(id -> sids[3] = id))
          .compose(x -> seedResources(direct, users, sids))
          .compose(x -> good.connect(vertx, wsc, gwPort, tokens[0], sids[0]))
          .compose(v -> measure(vertx, http, httpPort, tokens[0], sids[0], good, 0, WARMUP + replies, idle))
          .compose(v -> {
            heap[0] = usedHeapAfterGc();
            heapPeak.set(heap[0]);
            flooding = true;
            floodStart[0] = System.currentTimeMillis();
            long sampler = vertx.setPeriodic(100, t -> heapPeak.accumulateAndGet(
                memory.getHeapMemoryUsage().getUsed(), Math::max));
            startFlood(vertx, wsc, net, attackHttp, httpPort, gwPort, tokens[1], sids[1], bombFrame);
            resources.start(tokens[2], sids[2], tokens[3], searchHttp, devHttp);
            return delay(vertx, 2_000)
                .compose(x -> measure(vertx, http, httpPort, tokens[0], sids[0], good, 0, replies, abused))
                .compose(x -> delay(vertx, Math.max(0, MIN_FLOOD_MS - (System.currentTimeMillis() - floodStart[0]))))
                .map(x -> {
                  // every attacker still on: the stalled exports hold what they hold now
                  exportPages[0] = ResourceAttackers.exportPagesInMemory();
                  heap[1] = usedHeapAfterGc();
                  return x;
                })
                .eventually(() -> {
                  flooding = false;
                  resources.stop();
                  vertx.cancelTimer(sampler);
                  return delay(vertx, 1_500); // let in-flight attackers wind down
                });
          })
          .compose(v -> {
            heap[2] = usedHeapAfterGc();
            return http.get(httpPort, "127.0.0.1", "/health").send().map(r -> r.statusCode());
          })
          .map(health -> report(idle.subList(Math.min(WARMUP, idle.size()), idle.size()), abused, heap, health,
              System.currentTimeMillis() - floodStart[0], resources, exportPages[0]))
          .eventually(() -> direct.close().eventually(() -> h.close()));
    });
  }

  /** The export victim's multi-MB session and the searcher's long messages, straight into the store. */
  private static Future<Void> seedResources(MongoClient direct, String[] users, String[] sids) {
    long t0 = System.currentTimeMillis();
    return ResourceAttackers.seed(direct, users[2], sids[2], ResourceAttackers.EXPORT_MESSAGES,
            ResourceAttackers.EXPORT_MESSAGE_CHARS, 'x')
        .compose(v -> ResourceAttackers.seed(direct, users[3], sids[3], ResourceAttackers.SEARCH_MESSAGES,
            ResourceAttackers.SEARCH_MESSAGE_CHARS, 'a'))
        .onSuccess(v -> log.info("seeded {} x {} chars to export and {} x {} chars to search in {} ms",
            ResourceAttackers.EXPORT_MESSAGES, ResourceAttackers.EXPORT_MESSAGE_CHARS,
            ResourceAttackers.SEARCH_MESSAGES, ResourceAttackers.SEARCH_MESSAGE_CHARS, System.currentTimeMillis() - t0));
  }

  // ---------------------------------------------------------------- the well-behaved client

  /** The well-behaved user's socket: first delta and completion per reply id. */
  private static final class Good {
    final Map<String, Long> firstDeltaAt = new ConcurrentHashMap<>();
    final Map<String, Promise<Void>> completed = new ConcurrentHashMap<>();

    Promise<Void> done(String id) {
      return completed.computeIfAbsent(id, k -> Promise.promise());
    }

    Future<Void> connect(Vertx vertx, WebSocketClient wsc, int port, String token, String sessionId) {
      Promise<Void> joined = Promise.promise();
      return Sio.connect(wsc, port, token, packet -> {
        if (packet.startsWith("430")) {
          if (packet.contains("\"error\"")) {
            joined.tryFail("join refused: " + packet);
          } else {
            joined.tryComplete();
          }
        } else if (packet.startsWith("42[\"message.")) {
          JsonArray a = new JsonArray(packet.substring(2));
          JsonObject d = a.getJsonObject(1);
          switch (a.getString(0)) {
            case "message.delta" -> firstDeltaAt.putIfAbsent(d.getString("messageId"), System.currentTimeMillis());
            case "message.completed", "message.failed", "message.cancelled" -> done(d.getString("id")).tryComplete();
            default -> { }
          }
        }
      }, v -> joined.tryFail("the well-behaved socket closed")).compose(s -> {
        s.ws.writeTextMessage("420[\"join\",{\"sessionId\":\"" + sessionId + "\"}]");
        vertx.setTimer(10_000, t -> joined.tryFail("no join ack"));
        return joined.future();
      });
    }
  }

  private Future<Void> measure(Vertx vertx, WebClient http, int port, String token, String sessionId, Good good,
      int i, int n, List<Long> out) {
    if (i >= n) {
      return Future.succeededFuture();
    }
    long postedAt = System.currentTimeMillis();
    return Bench.send(http, port, token, sessionId, "well-behaved question " + out.size() + "/" + i)
        .compose(id -> {
          Promise<Void> done = good.done(id);
          long t = vertx.setTimer(30_000, x -> done.tryFail("reply " + id + " did not finish on the socket"));
          return done.future().map(v -> {
            vertx.cancelTimer(t);
            Long first = good.firstDeltaAt.get(id);
            if (first == null) {
              throw new IllegalStateException("reply " + id + " completed without a delta on the socket");
            }
            out.add(first - postedAt);
            return null;
          });
        })
        .compose(v -> delay(vertx, GAP_MS))
        .compose(v -> measure(vertx, http, port, token, sessionId, good, i + 1, n, out));
  }

  // ---------------------------------------------------------------- the flood

  private void startFlood(Vertx vertx, WebSocketClient wsc, NetClient net, WebClient http, int httpPort, int gwPort,
      String token, String sessionId, byte[] bombFrame) {
    vertx.setPeriodic(1000 / BOMBS_PER_SEC, t -> {
      if (!flooding) {
        vertx.cancelTimer(t);
        return;
      }
      bomb(vertx, net, gwPort, bombFrame);
    });
    for (int i = 0; i < JOIN_SOCKETS; i++) {
      joinFlooder(vertx, wsc, gwPort, token, sessionId);
    }
    for (int i = 0; i < SENDERS; i++) {
      sender(http, httpPort, token, sessionId);
    }
    for (int i = 0; i < SLOW_PER_PORT; i++) {
      slow(vertx, net, httpPort, "rest");
      slow(vertx, net, gwPort, "gateway");
    }
  }

  /** A websocket upgrade offering permessage-deflate, then the bomb frame; counts how the server ends it. */
  private void bomb(Vertx vertx, NetClient net, int port, byte[] frame) {
    net.connect(port, "127.0.0.1").onFailure(e -> bombsRefused.incrementAndGet()).onSuccess(so -> {
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      boolean[] sent = {false};
      boolean[] counted = {false};
      so.handler(b -> {
        seen.writeBytes(b.getBytes());
        byte[] all = seen.toByteArray();
        int head = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        if (!sent[0] && head >= 0) {
          sent[0] = true;
          so.write(Buffer.buffer(frame));
          bombsSent.incrementAndGet();
        }
        if (sent[0] && !counted[0] && hasClose1009(all, head + 4)) {
          counted[0] = true;
          bombsClosed1009.incrementAndGet();
        }
      });
      so.closeHandler(v -> {
        if (!counted[0]) {
          counted[0] = true;
          bombsClosedOther.incrementAndGet();
        }
      });
      vertx.setTimer(10_000, t -> so.close());
      so.write("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n");
    });
  }

  /** An authenticated attacker socket that keeps emitting joins; reconnects when disconnected. */
  private void joinFlooder(Vertx vertx, WebSocketClient wsc, int port, String token, String sessionId) {
    if (!flooding) {
      return;
    }
    long[] timer = {-1};
    Sio.connect(wsc, port, token, packet -> {
      if (packet.startsWith("43")) {
        if (packet.contains("RATE_LIMITED")) {
          joinsRateLimited.incrementAndGet();
        } else if (packet.contains("\"error\"")) {
          joinsOtherError.incrementAndGet();
        } else {
          joinsOk.incrementAndGet();
        }
      }
    }, v -> {
      joinSocketsDisconnected.incrementAndGet();
      if (timer[0] >= 0) {
        vertx.cancelTimer(timer[0]);
      }
      vertx.setTimer(100, t -> joinFlooder(vertx, wsc, port, token, sessionId));
    }).onFailure(e -> {
      joinConnectRefused.incrementAndGet();
      vertx.setTimer(200, t -> joinFlooder(vertx, wsc, port, token, sessionId));
    }).onSuccess(s -> {
      joinSocketsConnected.incrementAndGet();
      int[] ackId = {0};
      // 10 joins every 10 ms (~1,000/s a socket) while the socket's write queue drains
      timer[0] = vertx.setPeriodic(10, t -> {
        if (!flooding) {
          vertx.cancelTimer(t);
          s.ws.close();
          return;
        }
        for (int k = 0; k < 10 && !s.ws.writeQueueFull(); k++) {
          s.ws.writeTextMessage("42" + (ackId[0]++) + "[\"join\",{\"sessionId\":\"" + sessionId + "\"}]");
          joinsSent.incrementAndGet();
        }
      });
    });
  }

  /** A loop POSTing messages as fast as the answers come; counts status and error code. */
  private void sender(WebClient http, int port, String token, String sessionId) {
    if (!flooding) {
      return;
    }
    Bench.post(http, port, token, "/chats/" + sessionId + "/messages", new JsonObject().put("content", "flood"))
        .onComplete(ar -> {
          String key;
          if (ar.failed()) {
            key = "transport error";
          } else {
            JsonObject b = ar.result().body();
            JsonObject err = b == null ? null : b.getJsonObject("error");
            key = ar.result().statusCode() + (err == null ? "" : " " + err.getString("code"));
          }
          sendOutcomes.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
          sender(http, port, token, sessionId);
        });
  }

  /** A raw TCP connection sending a never-ending request head a byte at a time; reconnects when closed. */
  private void slow(Vertx vertx, NetClient net, int port, String name) {
    if (!flooding) {
      return;
    }
    net.connect(port, "127.0.0.1").onFailure(e -> {
      slowRefused.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
      vertx.setTimer(1_000, t -> slow(vertx, net, port, name));
    }).onSuccess(so -> {
      slowOpened.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
      long opened = System.currentTimeMillis();
      byte[] head = ("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(10_000))
          .getBytes(StandardCharsets.US_ASCII);
      int[] pos = {0};
      boolean[] byUs = {false};
      long timer = vertx.setPeriodic(SLOW_BYTE_MS, t -> {
        if (!flooding) {
          byUs[0] = true;
          so.close();
          return;
        }
        so.write(Buffer.buffer(new byte[] {head[Math.min(pos[0]++, head.length - 1)]}));
      });
      so.handler(b -> { }); // a 408/400 answer, if any, then the close
      so.closeHandler(v -> {
        vertx.cancelTimer(timer);
        if (!byUs[0]) {
          slowClosed.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
          slowLifetimes.computeIfAbsent(name, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(System.currentTimeMillis() - opened);
          vertx.setTimer(100, t -> slow(vertx, net, port, name));
        }
      });
    });
  }

  // ---------------------------------------------------------------- a minimal Engine.IO v4 / Socket.IO client

  /** A websocket Socket.IO connection to the default namespace, authenticated with a token. */
  private record Sio(WebSocket ws) {

    static Future<Sio> connect(WebSocketClient wsc, int port, String token, Consumer<String> onPacket,
        io.vertx.core.Handler<Void> onClose) {
      Promise<Sio> connected = Promise.promise();
      WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
          .setURI("/socket.io/?EIO=4&transport=websocket");
      return wsc.connect(o).compose(ws -> {
        Sio s = new Sio(ws);
        ws.textMessageHandler(m -> {
          if (m.equals("2")) {
            ws.writeTextMessage("3");
          } else if (m.startsWith("0{")) {
            ws.writeTextMessage("40{\"token\":\"" + token + "\"}");
          } else if (m.startsWith("40")) {
            connected.tryComplete(s);
          } else if (m.startsWith("44")) {
            connected.tryFail("connect refused: " + m);
          } else {
            onPacket.accept(m);
          }
        });
        ws.closeHandler(v -> {
          if (!connected.tryFail("closed before connecting")) {
            onClose.handle(null);
          }
        });
        return connected.future();
      });
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * One client text frame with RSV1 (permessage-deflate), masked with an all-zero key (so the payload is
   * the plain deflate stream), that inflates to {@code inflated} bytes: the start of a join and 'a's.
   */
  static byte[] bombFrame(long inflated) {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    byte[] buf = new byte[64 * 1024];
    byte[] prefix = "42[\"join\",{\"sessionId\":\"".getBytes(StandardCharsets.UTF_8);
    d.setInput(prefix);
    drain(d, z, buf, Deflater.NO_FLUSH);
    byte[] chunk = new byte[1 << 20];
    java.util.Arrays.fill(chunk, (byte) 'a');
    for (long left = inflated - prefix.length; left > 0; left -= chunk.length) {
      d.setInput(chunk, 0, (int) Math.min(chunk.length, left));
      drain(d, z, buf, Deflater.NO_FLUSH);
    }
    drain(d, z, buf, Deflater.SYNC_FLUSH);
    d.end();
    byte[] p = z.toByteArray();
    int n = p.length - 4; // without the 00 00 ff ff tail, as RFC 7692 sends it
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.write(0x80 | 0x40 | 0x1); // FIN, RSV1, text
    if (n < 126) {
      f.write(0x80 | n);
    } else if (n < 65536) {
      f.write(0x80 | 126);
      f.write(n >> 8);
      f.write(n & 0xff);
    } else {
      f.write(0x80 | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) (((long) n >> (8 * i)) & 0xff));
      }
    }
    f.writeBytes(new byte[4]); // masking key 0
    f.write(p, 0, n);
    return f.toByteArray();
  }

  private static void drain(Deflater d, ByteArrayOutputStream to, byte[] buf, int flush) {
    while (true) {
      int n = d.deflate(buf, 0, buf.length, flush);
      to.write(buf, 0, n);
      if (n < buf.length && d.needsInput()) {
        return;
      }
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Whether the server frames after {@code from} hold a close frame with status 1009. */
  private static boolean hasClose1009(byte[] b, int from) {
    for (int i = Math.max(0, from); i + 3 < b.length; i++) {
      if ((b[i] & 0xff) == 0x88 && (b[i + 1] & 0x7f) >= 2 && (b[i + 2] & 0xff) == 0x03 && (b[i + 3] & 0xff) == 0xf1) {
        return true;
      }
    }
    return false;
  }

  private static Future<Void> delay(Vertx vertx, long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(Math.max(1, ms), t -> p.complete());
    return p.future();
  }

  private long usedHeapAfterGc() {
    System.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }

  private static Map<String, Long> snapshot(Map<String, AtomicLong> m) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private boolean report(List<Long> idle, List<Long> abused, long[] heap, int health, long floodMs,
      ResourceAttackers resources, long exportPages) {
    double idle50 = Bench.percentile(idle, 50);
    double abuse50 = Bench.percentile(abused, 50);
    double ratio = idle50 == 0 ? Double.POSITIVE_INFINITY : abuse50 / idle50;
    log.info("well-behaved client: POST -> first message.delta on its own socket, {} replies a phase "
        + "(after {} warm-up), {} ms between replies; flood ran {} ms", replies, WARMUP, GAP_MS, floodMs);
    log.info(String.format("%-10s %8s %8s %8s %8s", "", "p50 ms", "p90 ms", "max ms", "mean ms"));
    log.info(String.format("%-10s %8.0f %8.0f %8.0f %8.1f", "idle", idle50, Bench.percentile(idle, 90),
        Bench.percentile(idle, 100), Bench.mean(idle)));
    log.info(String.format("%-10s %8.0f %8.0f %8.0f %8.1f", "abuse", abuse50, Bench.percentile(abused, 90),
        Bench.percentile(abused, 100), Bench.mean(abused)));
    log.info(String.format("p50 ratio abuse/idle = %.2f (target <= 2.0)", ratio));
    log.info("(a) compression bombs ({} MiB inflated, {}/s): sent {}, closed with 1009 {}, closed otherwise {}, "
        + "connect refused {}", BOMB_MIB, BOMBS_PER_SEC, bombsSent.get(), bombsClosed1009.get(),
        bombsClosedOther.get(), bombsRefused.get());
    log.info("(b) join flood ({} sockets): joins sent {}, acked ok {}, RATE_LIMITED {}, other error {}; "
        + "sockets connected {}, disconnected by the server {}, connects refused {}", JOIN_SOCKETS, joinsSent.get(),
        joinsOk.get(), joinsRateLimited.get(), joinsOtherError.get(), joinSocketsConnected.get(),
        joinSocketsDisconnected.get(), joinConnectRefused.get());
    log.info("(c) send flood ({} loops): {}", SENDERS, snapshot(sendOutcomes));
    for (String port : List.of("rest", "gateway")) {
      List<Long> life = slowLifetimes.getOrDefault(port, List.of());
      log.info("(d) slow connections to the {} port ({}): opened {}, closed by the server {} (lifetime p50 {} ms, "
          + "max {} ms), connects refused {}", port, SLOW_PER_PORT,
          slowOpened.getOrDefault(port, new AtomicLong()).get(), slowClosed.getOrDefault(port, new AtomicLong()).get(),
          (long) Bench.percentile(life, 50), (long) Bench.percentile(life, 100),
          slowRefused.getOrDefault(port, new AtomicLong()).get());
    }
    resources.report(log);
    long growth = heap[1] - heap[0];
    log.info("heap used after GC: before flood {} MiB, with every attacker on {} MiB (+{} MiB, bound < {} MiB; "
        + "export pages held then {}), after {} MiB; peak sampled during the flood {} MiB (garbage included)",
        heap[0] >> 20, heap[1] >> 20, growth >> 20, HEAP_BOUND_MIB, exportPages, heap[2] >> 20, heapPeak.get() >> 20);
    log.info("/health at the end: {}", health);
    return health == 200 && idle.size() == replies && abused.size() == replies && ratio <= 2.0
        && growth < ((long) HEAP_BOUND_MIB << 20);
  }
}
