package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.gateway.NodeScenario;
import com.aichat.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 18's core figures: what one reply costs the store and the bus, and how soon its first delta
 * reaches a {@code socket.io-client@4} (node, {@code src/test/js/scenarios.js timeline}). Parts, chosen
 * with {@code -Dbench.parts=commands,latency,load,burst} (default {@code commands,latency}), each on a
 * fresh service (real verticles in-process, the fake Claude over HTTP) in one metered Vert.x, built as
 * {@code Main} builds a node's, so the meters are the ones {@code /metrics} serves:
 * <ol>
 *   <li>{@code commands}: MongoDB commands per reply ({@code mongodb_driver_commands_seconds_count} by
 *       command and collection) and bus messages per reply ({@code vertx_eventbus_sent/published} by
 *       address), as counter deltas over {@code bench.sends} (20) sequential sends in one session that
 *       already holds 10 messages; each reply is 20 chunks with no delay, so no checkpoint; titles and
 *       compaction (summaries) off, quota off. Background work (dispatch/lease sweeps, recovery) is not
 *       switched off: an idle window as long as the sends is measured right after and subtracted. Runs
 *       with the shipped per-user pending cap ({@code quota.max_pending_replies} 5) and without it (0).</li>
 *   <li>{@code latency}: idle first delta on the default durable store ({@code bench.backend}, h2):
 *       {@code bench.warmup} (200) replies, then {@code bench.replies} (200) sequential sends, 20 ms apart;
 *       POST → first {@code message.delta} at a socket joined to the session, with POST → 202, POST → the
 *       provider request and POST → first {@code chat.events.delta} on the bus. With
 *       {@code -Dbench.jfr=/path.jfr} the measured sends are recorded by JFR (profile settings).</li>
 *   <li>{@code load}: in-memory store, {@value #LOAD_USERS} users, one socket each, open loop at each of
 *       {@code bench.rates} (200,500) msg/s for {@value #LOAD_SECONDS} s after a 3 s warm-up at 50 msg/s,
 *       each level on a fresh service with the shipped pending cap: 202 / 429 / other answers, lost replies
 *       (accepted, not completed or never seen at the socket), first delta at the socket p50/p99, peak
 *       completions in one second.</li>
 *   <li>{@code burst}: in-memory store, {@code bench.users} (500) users, one socket each, send their first
 *       message at once; the fake streams each reply for 10 s (100 chunks, 100 ms apart): POST → first
 *       delta at the socket p50/p90/max, and the most streams the fake had open at once.</li>
 * </ol>
 * Times at the socket are node's {@code performance.timeOrigin + performance.now()} against Java's
 * {@code Instant.now()}, both the wall clock with sub-millisecond resolution. No target is asserted
 * (the targets are for after its work): PASS when every run was valid.
 *
 * <p>Run: {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.ReplyCostBenchmark [-Dbench.parts=commands,latency,load,burst]
 * [-Dbench.backend=h2] [-Dbench.jfr=/tmp/latency.jfr]}
 */
public final class ReplyCostBenchmark {

  private static final Logger log = LoggerFactory.getLogger(ReplyCostBenchmark.class);

  static final int LOAD_USERS = 50;
  static final int LOAD_SECONDS = 10;
  static final long TICK_MS = 10;

  private final Vertx vertx;

  private ReplyCostBenchmark(Vertx vertx) {
    this.vertx = vertx;
  }

  public static void main(String[] args) {
    List<String> parts = Arrays.asList(System.getProperty("bench.parts", "commands,latency").split(","));
    Bench.run("ReplyCostBenchmark" + parts, 900, Bench.meteredVertx(), vertx -> {
      ReplyCostBenchmark b = new ReplyCostBenchmark(vertx);
      Future<Boolean> chain = Future.succeededFuture(true);
      for (String part : parts) {
        chain = chain.compose(ok -> b.part(part.trim()).map(ok2 -> ok && ok2));
      }
      return chain;
    });
  }

  private Future<Boolean> part(String part) {
    log.info("---- part {} ----", part);
    return switch (part) {
      case "commands" -> commands(5).compose(a -> commands(0).map(b -> a && b));
      case "latency" -> latency();
      case "load" -> {
        Future<Boolean> chain = Future.succeededFuture(true);
        for (String r : System.getProperty("bench.rates", "200,500").split(",")) {
          chain = chain.compose(ok -> load(Integer.parseInt(r.trim())).map(ok2 -> ok && ok2));
        }
        yield chain;
      }
      case "burst" -> burst();
      default -> Future.failedFuture("unknown part " + part);
    };
  }

  /** Titles and compaction off: nothing but the reply reaches the store or the fake. */
  private static JsonObject quiet(int maxPending) {
    return new JsonObject()
        .put("titles", new JsonObject().put("enabled", false))
        .put("context", new JsonObject().put("compaction", new JsonObject().put("enabled", false)))
        .put("quota", new JsonObject().put("enabled", false).put("max_pending_replies", maxPending));
  }

  private static double nowMs() {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1000.0 + i.getNano() / 1e6;
  }

  // ---- part 1: store commands and bus messages per reply ----------------------------------------

  /** Counter values now: MongoDB commands by command and collection, bus messages sent/published by address. */
  private Map<String, Double> meters() {
    MeterRegistry r = Metrics.of(vertx).meters();
    Map<String, Double> m = new TreeMap<>();
    for (Timer t : r.find("mongodb.driver.commands").timers()) {
      m.merge("mongo " + t.getId().getTag("command") + " " + t.getId().getTag("collection"), (double) t.count(),
          Double::sum);
    }
    for (Meter meter : r.getMeters()) {
      String name = meter.getId().getName();
      if ((name.equals("vertx.eventbus.sent") || name.equals("vertx.eventbus.published")) && meter instanceof Counter c) {
        String address = meter.getId().getTag("address");
        address = address != null && address.startsWith("__vertx.reply") ? "__vertx.reply.*" : address;
        m.merge("bus " + name.substring("vertx.eventbus.".length()) + " " + address, c.count(), Double::sum);
      }
    }
    return m;
  }

  private static Map<String, Double> minus(Map<String, Double> after, Map<String, Double> before) {
    Map<String, Double> d = new TreeMap<>();
    after.forEach((k, v) -> {
      double x = v - before.getOrDefault(k, 0.0);
      if (x != 0) {
        d.put(k, x);
      }
    });
    return d;
  }

  /** Sends {@code text} over HTTP and waits for the reply's final event; fails unless it completed. */
  private static Future<ChatMessage> ask(GenerationHarness h, WebClient http, String token, String sessionId,
      String text) {
    return Bench.send(http, h.app().httpPort(), token, sessionId, text).compose(h::finalReply).map(m -> {
      if (m.status() != MessageStatus.COMPLETED) {
        throw new IllegalStateException("reply " + m.id() + " ended " + m.status());
      }
      return m;
    });
  }

  private static Future<Void> askMany(GenerationHarness h, WebClient http, String token, String sessionId,
      String prefix, int from, int to) {
    if (from >= to) {
      return Future.succeededFuture();
    }
    return ask(h, http, token, sessionId, prefix + " " + from)
        .compose(m -> askMany(h, http, token, sessionId, prefix, from + 1, to));
  }

  private Future<Boolean> commands(int maxPending) {
    int n = Integer.getInteger("bench.sends", 20);
    String backend = System.getProperty("bench.backend", "h2");
    return Bench.start(vertx, backend, quiet(maxPending)).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(20), 0));
      WebClient http = Bench.client(vertx, 2);
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      Map<String, Double>[] snap = newSnaps(4);
      long[] window = new long[1];
      return Bench.newSession(http, h.app().httpPort(), token, "commands")
          .compose(sid -> askMany(h, http, token, sid, "earlier", 0, 5) // 10 earlier messages
              .compose(v -> vertx.timer(1000))
              .compose(v -> {
                snap[0] = meters();
                window[0] = System.nanoTime();
                return askMany(h, http, token, sid, "measured", 0, n);
              })
              .compose(v -> vertx.timer(200)) // the last completion's writes land
              .compose(v -> {
                snap[1] = meters();
                window[0] = (System.nanoTime() - window[0]) / 1_000_000;
                snap[2] = meters();
                return vertx.timer(window[0]);
              }))
          .map(v -> {
            snap[3] = meters();
            return reportCommands(backend, maxPending, n, window[0], minus(snap[1], snap[0]), minus(snap[3], snap[2]),
                h.fake().requests().size());
          })
          .eventually(() -> Bench.stop(vertx, h));
    });
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Double>[] newSnaps(int n) {
    return new Map[n];
  }

  private static boolean reportCommands(String backend, int maxPending, int n, long windowMs, Map<String, Double> sends,
      Map<String, Double> idle, int providerRequests) {
    log.info("commands per reply: backend={} quota.max_pending_replies={} sends={} over {} ms, idle window {} ms "
        + "(titles, compaction off; 20 chunks, no delay: no checkpoint)", backend, maxPending, n, windowMs, windowMs);
    log.info(String.format("  %-58s %10s %10s %10s", "meter (command/address, collection)", "sends/N", "idle/N",
        "net/N"));
    double[] mongo = new double[3];
    double[] bus = new double[3];
    java.util.Set<String> keys = new java.util.TreeSet<>(sends.keySet());
    keys.addAll(idle.keySet());
    for (String k : keys) {
      double s = sends.getOrDefault(k, 0.0) / n;
      double i = idle.getOrDefault(k, 0.0) / n;
      log.info(String.format("  %-58s %10.2f %10.2f %10.2f", k, s, i, s - i));
      double[] sum = k.startsWith("mongo ") ? mongo : k.startsWith("bus ") ? bus : null;
      if (sum != null) {
        sum[0] += s;
        sum[1] += i;
        sum[2] += s - i;
      }
    }
    log.info(String.format("  %-58s %10.2f %10.2f %10.2f", "TOTAL MongoDB commands per reply", mongo[0], mongo[1],
        mongo[2]));
    log.info(String.format("  %-58s %10.2f %10.2f %10.2f", "TOTAL bus messages sent+published per reply", bus[0],
        bus[1], bus[2]));
    // replies only: the 5 earlier and the n measured sends, nothing else asked the provider
    log.info("  provider requests during the part: {} ({} expected)", providerRequests, n + 5);
    return mongo[0] > 0 && providerRequests == n + 5;
  }

  // ---- part 2: idle first delta at a socket ------------------------------------------------------

  private Future<Boolean> latency() {
    int warmup = Integer.getInteger("bench.warmup", 200);
    int replies = Integer.getInteger("bench.replies", 200);
    String backend = System.getProperty("bench.backend", "h2");
    String jfr = System.getProperty("bench.jfr");
    Map<String, Double> busFirst = new ConcurrentHashMap<>();
    MessageConsumer<JsonObject> deltas = vertx.eventBus().consumer(Addresses.EVENTS_DELTA,
        m -> busFirst.putIfAbsent(m.body().getString("messageId"), nowMs()));
    return Bench.start(vertx, backend, quiet(5)).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(5), 0));
      WebClient http = Bench.client(vertx, 2);
      int port = h.app().httpPort();
      String token = Bench.token(vertx, GenerationHarness.newUserId());
      List<double[]> samples = new ArrayList<>(); // posted, answered, replyId index
      List<String> ids = new ArrayList<>();
      jdk.jfr.Recording[] recording = new jdk.jfr.Recording[1];
      NodeScenario[] node = new NodeScenario[1];
      return Future.all(Bench.newSession(http, port, token, "warm-up"), Bench.newSession(http, port, token, "measured"))
          .compose(cf -> {
            String warm = cf.resultAt(0);
            String measured = cf.resultAt(1);
            Promise<Void> ready = Promise.promise();
            node[0] = NodeScenario.start(vertx, "timeline", new JsonObject()
                .put("url", "http://127.0.0.1:" + h.app().gatewayPort()).put("precise", true)
                .put("clients", new JsonArray().add(new JsonObject().put("token", token).put("sessionId", warm))
                    .add(new JsonObject().put("token", token).put("sessionId", measured)))
                .put("maxMs", 600_000), r -> ready.tryComplete());
            node[0].result().onFailure(ready::tryFail);
            return ready.future()
                .compose(v -> askMany(h, http, token, warm, "warm-up", 0, warmup))
                .compose(v -> {
                  if (jfr != null) {
                    recording[0] = startJfr();
                  }
                  return timed(h, http, token, measured, 0, replies, samples, ids);
                })
                .compose(v -> {
                  if (recording[0] != null) {
                    dumpJfr(recording[0], jfr);
                  }
                  return vertx.timer(300);
                })
                .compose(v -> {
                  node[0].send("STOP");
                  return node[0].result();
                });
          })
          .map(r -> reportLatency(h, backend, warmup, samples, ids, r.getJsonObject("firstDelta"), busFirst))
          .eventually(() -> {
            deltas.unregister();
            if (node[0] != null) {
              node[0].send("STOP");
            }
            return Bench.stop(vertx, h);
          });
    });
  }

  private Future<Void> timed(GenerationHarness h, WebClient http, String token, String sessionId, int i, int n,
      List<double[]> samples, List<String> ids) {
    if (i >= n) {
      return Future.succeededFuture();
    }
    double posted = nowMs();
    return Bench.send(http, h.app().httpPort(), token, sessionId, "latency question " + i)
        .compose(id -> {
          samples.add(new double[] {posted, nowMs()});
          ids.add(id);
          return h.finalReply(id);
        })
        .compose(m -> vertx.timer(20))
        .compose(v -> timed(h, http, token, sessionId, i + 1, n, samples, ids));
  }

  private static jdk.jfr.Recording startJfr() {
    try {
      jdk.jfr.Recording r = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
      r.start();
      return r;
    } catch (Exception e) {
      throw new IllegalStateException("cannot start JFR", e);
    }
  }

  private static void dumpJfr(jdk.jfr.Recording r, String path) {
    try {
      r.stop();
      r.dump(Path.of(path));
      r.close();
      log.info("JFR recording of the measured sends: {}", path);
    } catch (Exception e) {
      log.warn("JFR dump failed: {}", e.toString());
    }
  }

  private static boolean reportLatency(GenerationHarness h, String backend, int warmup, List<double[]> samples,
      List<String> ids, JsonObject socketFirst, Map<String, Double> busFirst) {
    List<Double> toSocket = new ArrayList<>();
    List<Double> to202 = new ArrayList<>();
    List<Double> toBus = new ArrayList<>();
    List<Double> toProvider = new ArrayList<>();
    int missing = 0;
    for (int i = 0; i < ids.size(); i++) {
      double posted = samples.get(i)[0];
      to202.add(samples.get(i)[1] - posted);
      Double s = socketFirst.getDouble(ids.get(i));
      if (s == null) {
        missing++;
      } else {
        toSocket.add(s - posted);
      }
      Double b = busFirst.get(ids.get(i));
      if (b != null) {
        toBus.add(b - posted);
      }
      String question = "latency question " + i;
      h.fake().requests().stream().filter(r -> question.equals(r.lastUserText())).findFirst()
          .ifPresent(r -> toProvider.add(r.receivedAtMs() - posted));
    }
    log.info("idle first delta: backend={} replies={} after {} warm-up replies, 20 ms apart; fake: 5 chunks, no delay",
        backend, ids.size(), warmup);
    log.info(String.format("  %-42s %8s %8s %8s %8s %8s", "from the POST to", "p50 ms", "p90 ms", "p99 ms", "max ms",
        "n"));
    line("202 answered", to202);
    line("provider request received (ms clock)", toProvider);
    line("first chat.events.delta on the bus", toBus);
    line("first message.delta at the socket", toSocket);
    log.info("  replies without a first delta at the socket: {}", missing);
    return missing == 0 && !ids.isEmpty();
  }

  private static void line(String what, List<Double> v) {
    log.info(String.format("  %-42s %8.1f %8.1f %8.1f %8.1f %8d", what, Bench.percentile(v, 50),
        Bench.percentile(v, 90), Bench.percentile(v, 99), Bench.percentile(v, 100), v.size()));
  }

  // ---- socket clients for parts 3 and 4 -----------------------------------------------------------

  /** One socket per (token, session), joined; the scenario's result has firstDelta and completed by reply id. */
  private Future<NodeScenario> sockets(GenerationHarness h, List<String> tokens, List<String> sessionIds) {
    JsonArray clients = new JsonArray();
    for (int i = 0; i < tokens.size(); i++) {
      clients.add(new JsonObject().put("token", tokens.get(i)).put("sessionId", sessionIds.get(i)));
    }
    Promise<NodeScenario> ready = Promise.promise();
    NodeScenario[] node = new NodeScenario[1];
    node[0] = NodeScenario.start(vertx, "timeline", new JsonObject()
        .put("url", "http://127.0.0.1:" + h.app().gatewayPort()).put("precise", true).put("clients", clients)
        .put("batch", 25).put("maxMs", 300_000), r -> ready.tryComplete(node[0]));
    node[0].result().onFailure(ready::tryFail);
    return ready.future();
  }

  private record Users(List<String> tokens, List<String> sessionIds) {}

  private Future<Users> users(GenerationHarness h, WebClient http, int n) {
    List<String> tokens = new ArrayList<>();
    List<Future<String>> sessions = new ArrayList<>();
    for (int u = 0; u < n; u++) {
      String user = GenerationHarness.newUserId();
      tokens.add(Bench.token(vertx, user));
      sessions.add(h.newSession(user).map(s -> s.id()));
    }
    return Future.all(sessions).map(cf -> new Users(tokens, cf.list()));
  }

  // ---- part 3: load ------------------------------------------------------------------------------

  private Future<Boolean> load(int rate) {
    String backend = System.getProperty("bench.loadBackend", "memory");
    return Bench.start(vertx, backend, quiet(5)).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(5), 0));
      WebClient http = Bench.client(vertx, 128);
      NodeScenario[] node = new NodeScenario[1];
      return users(h, http, LOAD_USERS)
          .compose(u -> sockets(h, u.tokens(), u.sessionIds()).compose(nd -> {
            node[0] = nd;
            return openLoop(h, http, u, 50, 3, "warm-up")
                .compose(w -> Future.join(w.accepted().stream().map(h::finalReply).toList()))
                .compose(v -> openLoop(h, http, u, rate, LOAD_SECONDS, "load"));
          }))
          .compose(run -> drain(h, run.accepted(), 30_000).compose(v -> vertx.timer(500)).compose(v -> {
            node[0].send("STOP");
            return node[0].result();
          }).map(r -> reportLoad(h, rate, run, r.getJsonObject("firstDelta"), r.getJsonObject("completed"))))
          .eventually(() -> {
            if (node[0] != null) {
              node[0].send("STOP");
            }
            return Bench.stop(vertx, h);
          });
    });
  }

  private record OpenLoop(int offered, List<String> accepted, Map<String, Double> postedAt, Map<Integer, Integer> codes,
      double startMs, double endMs) {}

  /** Sends at {@code rate} for {@code seconds}, round-robin over the users, whatever the answers; waits for them. */
  private Future<OpenLoop> openLoop(GenerationHarness h, WebClient http, Users u, int rate, int seconds, String tag) {
    int total = rate * seconds;
    long ticks = seconds * 1000L / TICK_MS;
    List<String> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
    Map<String, Double> postedAt = new ConcurrentHashMap<>();
    Map<Integer, Integer> codes = new ConcurrentHashMap<>();
    List<Future<Void>> posts = new ArrayList<>();
    int[] sent = {0};
    Promise<Void> done = Promise.promise();
    long t0 = System.nanoTime();
    double startMs = nowMs();
    vertx.setPeriodic(TICK_MS, timer -> {
      long tick = (System.nanoTime() - t0) / (TICK_MS * 1_000_000L) + 1;
      long due = Math.min(total, tick * total / ticks);
      while (sent[0] < due) {
        int i = sent[0]++;
        int user = i % u.tokens().size();
        double at = nowMs();
        posts.add(Bench.post(http, h.app().httpPort(), u.tokens().get(user),
                "/chats/" + u.sessionIds().get(user) + "/messages", new JsonObject().put("content", tag + " " + i))
            .map(r -> {
              codes.merge(r.statusCode(), 1, Integer::sum);
              if (r.statusCode() == 202) {
                String id = r.body().getJsonObject("reply").getString("id");
                postedAt.put(id, at);
                accepted.add(id);
              }
              return (Void) null;
            })
            .recover(err -> {
              codes.merge(-1, 1, Integer::sum);
              return Future.succeededFuture();
            }));
      }
      if (sent[0] >= total) {
        vertx.cancelTimer(timer);
        done.complete();
      }
    });
    double[] end = new double[1];
    return done.future().map(v -> end[0] = nowMs())
        .compose(v -> Future.join(new ArrayList<>(posts)))
        .map(v -> new OpenLoop(total, accepted, postedAt, codes, startMs, end[0]));
  }

  private Future<Void> drain(GenerationHarness h, List<String> ids, long maxMs) {
    long deadline = System.currentTimeMillis() + maxMs;
    return com.aichat.testing.TestApp.until(vertx, () -> System.currentTimeMillis() > deadline
        || ids.stream().allMatch(id -> h.finalReply(id).isComplete()));
  }

  private static boolean reportLoad(GenerationHarness h, int rate, OpenLoop run, JsonObject socketFirst,
      JsonObject socketCompleted) {
    List<Double> first = new ArrayList<>();
    int lost = 0;
    int notCompleted = 0;
    Map<Long, Integer> perSecond = new TreeMap<>();
    for (String id : run.accepted()) {
      Future<ChatMessage> f = h.finalReply(id);
      boolean completed = f.isComplete() && f.result().status() == MessageStatus.COMPLETED;
      Double d = socketFirst.getDouble(id);
      Double c = socketCompleted.getDouble(id);
      if (!completed) {
        notCompleted++;
      }
      if (!completed || d == null || c == null) {
        lost++;
      }
      if (d != null) {
        first.add(d - run.postedAt().get(id));
      }
      if (c != null) {
        perSecond.merge((long) Math.floor(c / 1000), 1, Integer::sum);
      }
    }
    int peak = perSecond.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    double loadSeconds = (run.endMs() - run.startMs()) / 1000;
    long completedDuringLoad = run.accepted().stream().map(socketCompleted::getDouble)
        .filter(c -> c != null && c <= run.endMs()).count();
    log.info("load: {} users at {} msg/s for {} s (sent over {} s): offered {}, answers {} (-1 = transport error)",
        LOAD_USERS, rate, LOAD_SECONDS, String.format("%.1f", loadSeconds), run.offered(), run.codes());
    log.info(String.format("  accepted %d, refused 429 %d, lost %d (not completed %d), first delta at the socket "
            + "p50 %.1f ms, p99 %.1f ms, max %.1f ms (n %d); completions at the socket during the load %.1f/s, peak %d "
            + "in one second", run.accepted().size(), run.codes().getOrDefault(429, 0), lost, notCompleted,
        Bench.percentile(first, 50), Bench.percentile(first, 99), Bench.percentile(first, 100), first.size(),
        completedDuringLoad / loadSeconds, peak));
    return run.codes().getOrDefault(-1, 0) == 0;
  }

  // ---- part 4: burst -----------------------------------------------------------------------------

  private Future<Boolean> burst() {
    int n = Integer.getInteger("bench.users", 500);
    String backend = System.getProperty("bench.loadBackend", "memory");
    return Bench.start(vertx, backend, quiet(5)).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(100), 100));
      WebClient http = Bench.client(vertx, 200);
      NodeScenario[] node = new NodeScenario[1];
      Map<String, Double> postedAt = new ConcurrentHashMap<>();
      Map<String, Double> answeredAt = new ConcurrentHashMap<>();
      AtomicInteger refused = new AtomicInteger();
      return users(h, http, n)
          .compose(u -> sockets(h, u.tokens(), u.sessionIds()).compose(nd -> {
            node[0] = nd;
            List<Future<String>> sends = new ArrayList<>();
            for (int i = 0; i < n; i++) {
              double at = nowMs();
              sends.add(Bench.send(http, h.app().httpPort(), u.tokens().get(i), u.sessionIds().get(i), "burst " + i)
                  .onSuccess(id -> {
                    postedAt.put(id, at);
                    answeredAt.put(id, nowMs());
                  })
                  .onFailure(e -> refused.incrementAndGet()));
            }
            return Future.join(sends).otherwiseEmpty();
          }))
          .compose(v -> drain(h, new ArrayList<>(postedAt.keySet()), 90_000))
          .compose(v -> vertx.timer(500))
          .compose(v -> {
            node[0].send("STOP");
            return node[0].result();
          })
          .map(r -> {
            JsonObject first = r.getJsonObject("firstDelta");
            List<Double> toSocket = new ArrayList<>();
            List<Double> to202 = new ArrayList<>();
            int completed = 0;
            for (Map.Entry<String, Double> e : postedAt.entrySet()) {
              Double d = first.getDouble(e.getKey());
              if (d != null) {
                toSocket.add(d - e.getValue());
              }
              to202.add(answeredAt.get(e.getKey()) - e.getValue());
              Future<ChatMessage> f = h.finalReply(e.getKey());
              if (f.isComplete() && f.result().status() == MessageStatus.COMPLETED) {
                completed++;
              }
            }
            log.info("burst: {} users send their first message at once; fake streams 100 chunks x 100 ms", n);
            log.info(String.format("  accepted %d, refused/failed %d, completed %d; provider peak concurrent streams %d",
                postedAt.size(), refused.get(), completed, h.fake().maxInFlight()));
            line("POST -> 202", to202);
            line("POST -> first message.delta at the socket", toSocket);
            return completed == n;
          })
          .eventually(() -> {
            if (node[0] != null) {
              node[0].send("STOP");
            }
            return Bench.stop(vertx, h);
          });
    });
  }
}
