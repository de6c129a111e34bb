package com.aichat.bench;

import com.aichat.contract.Addresses;
import com.aichat.contract.MessageEvent;
import com.aichat.gateway.NodeScenario;
import com.aichat.persistence.ChatStore;
import com.aichat.embedded.EmbeddedMongo;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8's benchmark: does the embedded store stay flat as other users' messages pile up? For each
 * backend ({@code -Dbench.backend=memory|h2|memory,h2}) and each size N ({@code -Dbench.sizes}, cumulative,
 * multiples of {@value #MESSAGES_PER_USER}) it
 * <ol>
 *   <li>seeds other users' data through the MongoDB reactive-streams driver straight into the embedded
 *       server, in the service's document shape (ObjectIds, dates, {@code user}/{@code ai_report} pairs,
 *       completed, 200–500 characters): per user {@value #SESSIONS_PER_USER} sessions of
 *       {@value #MESSAGES_PER_SESSION} messages, interleaved in time, one {@code insertMany} of
 *       {@value #MESSAGES_PER_USER} messages per user, {@value #SEED_IN_FLIGHT} in flight; seeding goes
 *       0 → N₁ → N₂ on the same store, so each size reuses the previous one's data;</li>
 *   <li>reports the seeding time, {@code mongo.mv}'s size (h2) and the heap after a GC;</li>
 *   <li>h2: stops the service and starts it again on the same data dir, timing start → {@code GET /health}
 *       answering 200 (must stay under 15 s);</li>
 *   <li>one user sends {@code bench.warmup} + {@code bench.sends} messages one after another over HTTP with the
 *       zero-latency offline model ({@code offline.chunk_delay_ms=0}); POST → first {@code message.delta} and
 *       POST → {@code message.completed} at a {@code socket.io-client@4} in the session's room (node,
 *       {@code scenarios.js timeline}), and the same two on the event bus ({@code chat.events.*});</li>
 *   <li>{@code GET /chats/:id/messages} (default page) on a {@value #HISTORY}-message session: requests/s,
 *       {@value #CONCURRENCY} loops for {@code bench.window_s};</li>
 *   <li>{@code claimGeneration} over the bus ({@link ChatStore}) on fresh pending placeholders:
 *       claims/s, {@value #CONCURRENCY} in flight, at most {@code bench.claims} or {@code bench.window_s}.</li>
 * </ol>
 * Before the first size, one such pass of sends, GET and claims runs on the empty store and is discarded,
 * so that the baseline does not pay for a cold JIT. PASS when every measurement is valid (all replies completed, no request failed) and, at every size, the
 * p50 latencies are within {@value #TARGET}× of the first size (the empty store) and the rates at least
 * 1/{@value #TARGET} of it, and h2 reopens in under 15 s.
 *
 * <p>The sweep's pending grace is raised to 10 minutes so the dispatcher never takes the claim
 * benchmark's placeholders; the sweep itself still runs every 5 s, as shipped.
 *
 * <p>Run (1,000,000 messages need a big heap on the memory backend, e.g. {@code MAVEN_OPTS=-Xmx8g}):
 * {@code mvn -B -q test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=com.aichat.bench.StoreScaleBenchmark -Dbench.backend=memory|h2
 * -Dbench.sizes=0,100000,1000000}
 */
public final class StoreScaleBenchmark {

  private static final Logger log = LoggerFactory.getLogger(StoreScaleBenchmark.class);

  static final int SESSIONS_PER_USER = 10;
  static final int MESSAGES_PER_SESSION = 200;
  /** Messages of one seeded user: one insertMany. */
  static final int MESSAGES_PER_USER = SESSIONS_PER_USER * MESSAGES_PER_SESSION;
  static final int SEED_IN_FLIGHT = 4;
  static final int HISTORY = 100;
  static final int CONCURRENCY = 8;
  static final int CLAIM_WARMUP = 200;
  static final long GET_WARMUP_MS = 3_000;
  static final double TARGET = 1.2;
  static final long H2_OPEN_LIMIT_MS = 15_000;
  static final long REPLY_TIMEOUT_MS = 60_000;
  static final long HEALTH_LIMIT_MS = 180_000;
  static final long STORE_TIMEOUT_MS = 60_000;
  static final long CLAIM_LEASE_MS = 600_000;
  static final String WORKER = "store-scale-bench";
  /** Seeded conversations start here, one exchange every {@value #PAIR_GAP_SECONDS} s. */
  static final Instant SEED_EPOCH = Instant.parse("2025-01-01T00:00:00Z");
  static final long PAIR_GAP_SECONDS = 30;

  record Settings(List<String> backends, List<Integer> sizes, int warmup, int sends, long sendBudgetMs,
      long windowMs, int claims, boolean socket, long seedBudgetMs, long timeoutSeconds, boolean keepData) {

    static Settings fromProperties() {
      List<String> backends = Stream.of(System.getProperty("bench.backend", "memory").split(","))
          .map(String::trim).filter(b -> !b.isEmpty()).toList();
      for (String b : backends) {
        if (!b.equals("memory") && !b.equals("h2")) {
          throw new IllegalArgumentException("bench.backend: memory, h2 or memory,h2, not " + b);
        }
      }
      List<Integer> sizes = Stream.of(System.getProperty("bench.sizes", "0,100000,1000000").split(","))
          .map(String::trim).filter(x -> !x.isEmpty()).map(Integer::parseInt).toList();
      for (int i = 0; i < sizes.size(); i++) {
        if (sizes.get(i) % MESSAGES_PER_USER != 0 || (i > 0 && sizes.get(i) < sizes.get(i - 1))) {
          throw new IllegalArgumentException("bench.sizes must be non-decreasing multiples of " + MESSAGES_PER_USER);
        }
      }
      if (backends.isEmpty() || sizes.isEmpty()) {
        throw new IllegalArgumentException("bench.backend and bench.sizes must not be empty");
      }
      return new Settings(backends, sizes,
          Integer.getInteger("bench.warmup", 5),
          Integer.getInteger("bench.sends", 30),
          Long.getLong("bench.send_budget_s", 180) * 1000,
          Long.getLong("bench.window_s", 5) * 1000,
          Integer.getInteger("bench.claims", 1000),
          Boolean.parseBoolean(System.getProperty("bench.socket", "true")),
          Long.getLong("bench.seed_budget_s", 3600) * 1000,
          Long.getLong("bench.timeout_s", 3600),
          Boolean.getBoolean("bench.keep_data"));
    }
  }

  /** One timed send: POST → first delta / completed on the bus (ns) and at the socket (wall ms). */
  record Sample(String replyId, long startNanos, long startWallMs, String finalType, long busFirstNanos,
      long busDoneNanos) {}

  record Sends(int requested, List<Sample> samples, int errors, List<Long> socketFirst, List<Long> socketDone,
      int socketMissing, boolean budgetHit) {

    List<Double> busFirst() {
      return samples.stream().filter(s -> s.busFirstNanos() > 0)
          .map(s -> (s.busFirstNanos() - s.startNanos()) / 1e6).toList();
    }

    List<Double> busDone() {
      return samples.stream().filter(s -> s.busDoneNanos() > 0)
          .map(s -> (s.busDoneNanos() - s.startNanos()) / 1e6).toList();
    }
  }

  record Rate(int ok, int errors, double seconds, List<Long> micros) {
    double perSecond() {
      return seconds <= 0 ? 0 : ok / seconds;
    }
  }

  /** Start → every verticle deployed (the store opened, the schema ensured), and start → /health 200. */
  record Startup(long deployedMs, long healthyMs) {}

  record Row(String backend, int size, long seededMessages, double seedSeconds, long mvAfterSeed,
      long mvAfterOpen, Startup startup, long heapMb, Sends sends, Rate get, Rate claims) {

    long startupMs() {
      return startup == null ? -1 : startup.healthyMs();
    }
  }

  public static void main(String[] args) {
    Settings s = Settings.fromProperties();
    Bench.run("StoreScaleBenchmark[" + String.join(",", s.backends()) + "]", s.timeoutSeconds(),
        vertx -> runAll(vertx, s));
  }

  private static Future<Boolean> runAll(Vertx vertx, Settings s) {
    log.info("StoreScaleBenchmark: backends={} sizes={} sends={}+{} warm-up (budget {} s) window={} s "
            + "concurrency={} claims<={} socket={} max heap={} MB", s.backends(), s.sizes(), s.sends(), s.warmup(),
        s.sendBudgetMs() / 1000, s.windowMs() / 1000, CONCURRENCY, s.claims(), s.socket(),
        Runtime.getRuntime().maxMemory() >> 20);
    Events events = new Events(vertx);
    List<Row> rows = new CopyOnWriteArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String backend : s.backends()) {
      chain = chain.compose(v -> new BackendRun(vertx, backend, s, events, rows).run().recover(err -> {
        log.error("[{}] aborted: {}", backend, err.toString(), err);
        return Future.succeededFuture();
      }));
    }
    return chain.map(v -> report(s, rows));
  }

  // ---- one backend, all sizes ---------------------------------------------------------------------

  private static final class BackendRun {

    private final Vertx vertx;
    private final String backend;
    private final Settings s;
    private final Events events;
    private final List<Row> rows;
    private final WebClient http;
    private final ChatStore store;
    private final String userId = TestTokens.newUserId();
    private Path dir;
    private TestApp app;
    private Seeder seeder;
    private long seededUsers;
    private Startup firstStartup;
    private String historySessionId;

    BackendRun(Vertx vertx, String backend, Settings s, Events events, List<Row> rows) {
      this.vertx = vertx;
      this.backend = backend;
      this.s = s;
      this.events = events;
      this.rows = rows;
      this.http = Bench.client(vertx, CONCURRENCY);
      this.store = ChatStore.client(vertx, STORE_TIMEOUT_MS);
    }

    Future<Void> run() {
      try {
        dir = Files.createTempDirectory("chat-store-scale-" + backend + "-");
      } catch (IOException e) {
        return Future.failedFuture(e);
      }
      if (!s.keepData()) {
        // the hard timeout exits the JVM without the cleanup below; the h2 file can be gigabytes
        Path mine = dir;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(mine), "store-scale-cleanup"));
      }
      Future<Void> chain = start()
          .compose(st -> {
            firstStartup = st;
            log.info("[{}] service started in {} ms on an empty store ({})", backend, st.healthyMs(), dir);
            return offContext(vertx, () -> seeder.history(userId));
          })
          .compose(id -> {
            historySessionId = id;
            // the first size must not pay for a cold JIT: that would flatter every later ratio
            log.info("[{}] warm-up pass on the empty store (sends, GET, claims; discarded)", backend);
            return sends("warm-up").compose(x -> rateOfGet()).compose(x -> rateOfClaims("warm-up")).<Void>mapEmpty();
          });
      for (int size : s.sizes()) {
        chain = chain.compose(v -> size(size)).map(row -> {
          rows.add(row);
          logRow(row, rows.stream().filter(r -> r.backend().equals(backend)).findFirst().orElse(row), s.socket());
          return null;
        });
      }
      return chain.eventually(() -> stop().eventually(this::deleteData));
    }

    /** Starts the service on {@link #dir}. */
    private Future<Startup> start() {
      int mongoPort = TestApp.freePort();
      JsonObject o = Bench.overrides(backend).mergeIn(new JsonObject()
          .put("mongo", new JsonObject().put("embedded_port", mongoPort))
          .put("ai", new JsonObject().put("provider", "offline"))
          .put("offline", new JsonObject().put("chunk_delay_ms", 0))
          .put("dispatch", new JsonObject().put("pending_grace_ms", 600_000)), true);
      long t0 = System.nanoTime();
      long[] deployed = new long[1];
      return TestApp.start(vertx, dir, o)
          .compose(a -> {
            app = a;
            deployed[0] = (System.nanoTime() - t0) / 1_000_000;
            log.info("[{}] every verticle deployed {} ms after start; waiting for GET /health 200", backend,
                deployed[0]);
            return awaitHealth(System.nanoTime() + HEALTH_LIMIT_MS * 1_000_000);
          })
          .map(v -> {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            seeder = new Seeder("mongodb://127.0.0.1:" + mongoPort, app.config().mongo().database());
            return new Startup(deployed[0], ms);
          });
    }

    private Future<Void> awaitHealth(long deadline) {
      return http.get(app.httpPort(), "127.0.0.1", "/health").send()
          .map(r -> r.statusCode() == 200)
          .otherwise(false)
          .compose(ok -> {
            if (ok) {
              return Future.succeededFuture();
            }
            if (System.nanoTime() > deadline) {
              return Future.failedFuture(new TimeoutException("/health did not answer 200 within "
                  + HEALTH_LIMIT_MS + " ms"));
            }
            return vertx.timer(100).compose(t -> awaitHealth(deadline));
          });
    }

    /** Undeploys every verticle (the embedded store is closed, h2 with a final commit). */
    private Future<Void> stop() {
      if (seeder != null) {
        seeder.close();
        seeder = null;
      }
      TestApp a = app;
      app = null;
      if (a == null) {
        return Future.succeededFuture();
      }
      List<String> ids = new ArrayList<>(a.deploymentIds());
      Collections.reverse(ids);
      Future<Void> chain = Future.succeededFuture();
      for (String id : ids) {
        chain = chain.compose(v -> vertx.undeploy(id));
      }
      return chain;
    }

    private Future<Void> deleteData() {
      if (s.keepData()) {
        log.info("[{}] data kept in {}", backend, dir);
        return Future.succeededFuture();
      }
      return vertx.executeBlocking(() -> {
        deleteTree(dir);
        return null;
      });
    }

    private Future<Row> size(int size) {
      long toUser = size / MESSAGES_PER_USER;
      long fromUser = seededUsers;
      long[] seedNanos = new long[1];
      long[] mv = {-1, -1};
      Startup[] startup = new Startup[1];
      long[] heap = {0};
      Sends[] sends = new Sends[1];
      Rate[] get = new Rate[1];
      long t0 = System.nanoTime();
      log.info("[{}] size {}: seeding {} messages of {} other users ...", backend, size,
          (toUser - fromUser) * MESSAGES_PER_USER, toUser - fromUser);
      return offContext(vertx, () -> {
        seeder.seedUsers(fromUser, toUser, System.nanoTime() + s.seedBudgetMs() * 1_000_000);
        return null;
      })
          .compose(v -> {
            seedNanos[0] = System.nanoTime() - t0;
            seededUsers = toUser;
            mv[0] = mvSize();
            if (!backend.equals("h2")) {
              startup[0] = size == s.sizes().get(0) ? firstStartup : null;
              return Future.succeededFuture();
            }
            long stopStart = System.nanoTime();
            return stop().compose(x -> {
              log.info("[{}] size {}: stopped in {} ms; starting again on the same data dir", backend, size,
                  (System.nanoTime() - stopStart) / 1_000_000);
              return start();
            }).map(st -> {
              startup[0] = st;
              mv[1] = mvSize();
              return null;
            });
          })
          .compose(v -> vertx.executeBlocking(StoreScaleBenchmark::heapAfterGc).map(h -> heap[0] = h))
          .compose(v -> sends("size " + size))
          .compose(r -> {
            sends[0] = r;
            return rateOfGet();
          })
          .compose(r -> {
            get[0] = r;
            return rateOfClaims("size " + size);
          })
          .map(claims -> new Row(backend, size, (toUser - fromUser) * MESSAGES_PER_USER, seedNanos[0] / 1e9,
              mv[0], mv[1], startup[0], heap[0], sends[0], get[0], claims));
    }

    private long mvSize() {
      Path f = dir.resolve(EmbeddedMongo.STORE_FILE);
      try {
        return backend.equals("h2") && Files.exists(f) ? Files.size(f) : -1;
      } catch (IOException e) {
        return -1;
      }
    }

    private String token() {
      return TestTokens.token(vertx, TestApp.TEST_SECRET, new JsonObject().put("sub", userId), 24 * 3600);
    }

    // ---- sequential sends ------------------------------------------------------------------------

    private Future<Sends> sends(String label) {
      String token = token();
      int port = app.httpPort();
      return Bench.newSession(http, port, token, "sends, " + label).compose(sessionId -> {
        NodeScenario[] node = new NodeScenario[1];
        Future<Void> ready = Future.succeededFuture();
        if (s.socket()) {
          Promise<Void> joined = Promise.promise();
          node[0] = NodeScenario.start(vertx, "timeline", new JsonObject()
              .put("url", "http://127.0.0.1:" + app.gatewayPort()).put("token", token).put("sessionId", sessionId)
              .put("joinTimeoutMs", 60_000).put("maxMs", s.sendBudgetMs() + 120_000), r -> joined.tryComplete());
          node[0].result().onFailure(joined::tryFail);
          ready = within(vertx, joined.future(), 70_000, "socket.io client join");
        }
        List<Sample> samples = new ArrayList<>();
        int[] errors = {0};
        boolean[] budgetHit = {false};
        long deadline = System.nanoTime() + s.sendBudgetMs() * 1_000_000;
        Future<Void> loop = ready.compose(v -> sendLoop(port, token, sessionId, 0, deadline, samples, errors,
            budgetHit));
        return loop
            .compose(v -> vertx.timer(300))
            .compose(v -> {
              if (node[0] == null) {
                return Future.succeededFuture(new JsonObject());
              }
              node[0].send("STOP");
              return within(vertx, node[0].result(), 20_000, "socket.io client result");
            })
            .eventually(() -> {
              if (node[0] != null) {
                node[0].send("STOP");
              }
              return Future.succeededFuture();
            })
            .compose(r -> store.deleteSession(userId, sessionId).map(r))
            .map(r -> {
              JsonObject first = r.getJsonObject("firstDelta", new JsonObject());
              JsonObject done = r.getJsonObject("completed", new JsonObject());
              List<Long> socketFirst = new ArrayList<>();
              List<Long> socketDone = new ArrayList<>();
              int missing = 0;
              for (Sample x : samples) {
                Long f = first.getLong(x.replyId());
                Long d = done.getLong(x.replyId());
                if (f == null || d == null) {
                  missing++;
                  continue;
                }
                socketFirst.add(f - x.startWallMs());
                socketDone.add(d - x.startWallMs());
              }
              return new Sends(s.sends(), samples, errors[0], socketFirst, socketDone, s.socket() ? missing : 0,
                  budgetHit[0]);
            });
      });
    }

    private Future<Void> sendLoop(int port, String token, String sessionId, int i, long deadline,
        List<Sample> samples, int[] errors, boolean[] budgetHit) {
      if (i == s.warmup() + s.sends()) {
        return Future.succeededFuture();
      }
      if (System.nanoTime() > deadline) {
        budgetHit[0] = true;
        return Future.succeededFuture();
      }
      long startNanos = System.nanoTime();
      long startWall = System.currentTimeMillis();
      return Bench.send(http, port, token, sessionId, Text.question(i))
          .compose(replyId -> within(vertx, events.finalOf(replyId), REPLY_TIMEOUT_MS, "reply " + replyId)
              .map(fin -> new Sample(replyId, startNanos, startWall, fin.type(), events.firstDelta(replyId),
                  fin.atNanos())))
          .map(sample -> {
            if (!MessageEvent.COMPLETED.equals(sample.finalType())) {
              errors[0]++;
            } else if (i >= s.warmup()) {
              samples.add(sample);
            }
            return null;
          })
          .recover(err -> {
            log.warn("[{}] send {} failed: {}", backend, i, err.toString());
            errors[0]++;
            return Future.succeededFuture();
          })
          .compose(v -> sendLoop(port, token, sessionId, i + 1, deadline, samples, errors, budgetHit));
    }

    // ---- rates ------------------------------------------------------------------------------------

    private Future<Rate> rateOfGet() {
      String token = token();
      int port = app.httpPort();
      String path = "/chats/" + historySessionId + "/messages";
      Supplier<Future<Boolean>> request = () -> Bench.get(http, port, token, path)
          .map(r -> r.statusCode() == 200 && r.body().getJsonArray("items").size() > 0);
      return load(vertx, request, GET_WARMUP_MS, Integer.MAX_VALUE)
          .compose(warm -> load(vertx, request, s.windowMs(), 1_000_000));
    }

    private Future<Rate> rateOfClaims(String label) {
      int total = CLAIM_WARMUP + s.claims();
      String[] sessionId = new String[1];
      return offContext(vertx, () -> seeder.placeholders(userId, label, total))
          .compose(created -> {
            sessionId[0] = created.sessionId();
            List<String> ids = created.replyIds();
            AtomicInteger next = new AtomicInteger();
            Supplier<Future<Boolean>> claim = () -> store
                .claimGeneration(ids.get(next.getAndIncrement()), WORKER, CLAIM_LEASE_MS)
                .map(r -> r.claimed());
            return load(vertx, claim, 60_000, CLAIM_WARMUP)
                .compose(warm -> load(vertx, claim, s.windowMs(), s.claims()));
          })
          .compose(rate -> store.deleteSession(userId, sessionId[0]).map(rate));
    }
  }

  /**
   * {@value #CONCURRENCY} loops of {@code request} until {@code windowMs} has passed or {@code max} requests
   * were issued; a request answering false or failing counts as an error.
   */
  static Future<Rate> load(Vertx vertx, Supplier<Future<Boolean>> request, long windowMs, int max) {
    List<Long> micros = new CopyOnWriteArrayList<>();
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    long t0 = System.nanoTime();
    long end = t0 + windowMs * 1_000_000;
    List<Future<Void>> loops = new ArrayList<>();
    for (int c = 0; c < CONCURRENCY; c++) {
      loops.add(loadLoop(request, end, max, issued, micros, ok, errors));
    }
    return Future.all(loops).map(v -> new Rate(ok.get(), errors.get(), (System.nanoTime() - t0) / 1e9, micros));
  }

  private static Future<Void> loadLoop(Supplier<Future<Boolean>> request, long end, int max, AtomicInteger issued,
      List<Long> micros, AtomicInteger ok, AtomicInteger errors) {
    if (System.nanoTime() >= end || issued.getAndIncrement() >= max) {
      return Future.succeededFuture();
    }
    long start = System.nanoTime();
    Future<Boolean> f;
    try {
      f = request.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    return f.otherwise(false).compose(good -> {
      micros.add((System.nanoTime() - start) / 1000);
      (good ? ok : errors).incrementAndGet();
      return loadLoop(request, end, max, issued, micros, ok, errors);
    });
  }

  // ---- bus observations ---------------------------------------------------------------------------

  record Final(String type, long atNanos) {}

  /** First {@code chat.events.delta} and the final {@code chat.events.message} per reply, with ns times. */
  private static final class Events {
    private final Map<String, Long> firstDelta = new ConcurrentHashMap<>();
    private final Map<String, Promise<Final>> finals = new ConcurrentHashMap<>();

    Events(Vertx vertx) {
      vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> {
        long now = System.nanoTime();
        firstDelta.putIfAbsent(m.body().getString("messageId"), now);
      });
      vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, m -> {
        long now = System.nanoTime();
        MessageEvent e = MessageEvent.fromJson(m.body());
        if (e.message().status().isFinal() && !e.type().equals(MessageEvent.CREATED)) {
          promise(e.message().id()).tryComplete(new Final(e.type(), now));
        }
      });
    }

    Future<Final> finalOf(String replyId) {
      return promise(replyId).future();
    }

    long firstDelta(String replyId) {
      return firstDelta.getOrDefault(replyId, 0L);
    }

    private Promise<Final> promise(String replyId) {
      return finals.computeIfAbsent(replyId, k -> Promise.promise());
    }
  }

  // ---- seeding through the driver -----------------------------------------------------------------

  record Placeholders(String sessionId, List<String> replyIds) {}

  /**
   * Writes documents in the service's stored shape ({@code MongoStoreSupport.messageDoc}, the completion's
   * {@code $set}, {@code MongoChatStore.createSession} + {@code touchSession}) with the reactive-streams
   * driver. Blocking methods: call them off the event loop ({@link #offContext}).
   */
  private static final class Seeder implements AutoCloseable {

    private final MongoClient client;
    private final MongoCollection<Document> messages;
    private final MongoCollection<Document> sessions;

    Seeder(String connectionString, String database) {
      client = MongoClients.create(connectionString);
      messages = client.getDatabase(database).getCollection("prompthistories");
      sessions = client.getDatabase(database).getCollection("chatsessions");
    }

    /** Seeds users {@code [fromUser, toUser)}: one insertMany of messages, then one of sessions, per user. */
    void seedUsers(long fromUser, long toUser, long deadlineNanos) throws Exception {
      Semaphore inFlight = new Semaphore(SEED_IN_FLIGHT);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      for (long u = fromUser; u < toUser && failure.get() == null; u++) {
        if (System.nanoTime() > deadlineNanos) {
          throw new TimeoutException("seeding did not finish within bench.seed_budget_s");
        }
        if (!inFlight.tryAcquire(300, TimeUnit.SECONDS)) {
          throw new TimeoutException("an insertMany did not answer within 300 s");
        }
        List<Document>[] block = userBlock(u);
        done(messages.insertMany(block[0]))
            .thenCompose(r -> done(sessions.insertMany(block[1])))
            .whenComplete((r, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
              inFlight.release();
            });
      }
      if (!inFlight.tryAcquire(SEED_IN_FLIGHT, 300, TimeUnit.SECONDS)) {
        throw new TimeoutException("the last insertMany calls did not answer within 300 s");
      }
      if (failure.get() != null) {
        throw new IllegalStateException("seeding failed: " + failure.get(), failure.get());
      }
    }

    /** The benchmark user's read target: a session of HISTORY completed messages. */
    String history(String userId) throws Exception {
      ObjectId user = new ObjectId(userId);
      ObjectId session = new ObjectId();
      Instant start = Instant.now().minusSeconds(24 * 3600);
      SplittableRandom rnd = new SplittableRandom(42);
      List<Document> docs = new ArrayList<>();
      for (int q = 0; q < HISTORY / 2; q++) {
        Instant at = start.plusSeconds(q * 60L);
        Document question = userMessage(new ObjectId(Date.from(at)), user, session, Text.content(rnd), at);
        docs.add(question);
        docs.add(completedReply(new ObjectId(Date.from(at)), user, session, question.getObjectId("_id"),
            Text.content(rnd), at, rnd));
      }
      Instant last = start.plusSeconds((HISTORY / 2 - 1) * 60L);
      done(messages.insertMany(docs)).get(120, TimeUnit.SECONDS);
      done(sessions.insertOne(sessionDoc(session, user, "history", start, last, HISTORY))).get(120, TimeUnit.SECONDS);
      return session.toHexString();
    }

    /** {@code count} fresh sends of the benchmark user whose placeholders are still pending. */
    Placeholders placeholders(String userId, String label, int count) throws Exception {
      ObjectId user = new ObjectId(userId);
      ObjectId session = new ObjectId();
      Instant start = Instant.now();
      List<Document> docs = new ArrayList<>();
      List<String> replies = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Instant at = start.plusMillis(i);
        Document question = userMessage(new ObjectId(), user, session, "claim me " + i, at);
        ObjectId replyId = new ObjectId();
        docs.add(question);
        docs.add(new Document("_id", replyId).append("userId", user).append("chatSessionId", session)
            .append("messageType", "ai_report").append("content", "").append("status", "pending")
            .append("attempts", 0).append("createdAt", Date.from(at)).append("updatedAt", Date.from(at))
            .append("replyTo", question.getObjectId("_id")));
        replies.add(replyId.toHexString());
      }
      Instant last = start.plusMillis(count - 1L);
      done(messages.insertMany(docs)).get(120, TimeUnit.SECONDS);
      done(sessions.insertOne(sessionDoc(session, user, "claims, " + label, start, last, 2L * count)))
          .get(120, TimeUnit.SECONDS);
      return new Placeholders(session.toHexString(), replies);
    }

    /**
     * Seeded user {@code u}: {@value #SESSIONS_PER_USER} sessions, {@value #MESSAGES_PER_USER} messages as
     * question/reply pairs {@value #PAIR_GAP_SECONDS} s apart, the user alternating between sessions.
     * Answers {messages, sessions}.
     */
    @SuppressWarnings("unchecked")
    static List<Document>[] userBlock(long u) {
      SplittableRandom rnd = new SplittableRandom(0x5eedL * 1_000_003L + u);
      int pairs = MESSAGES_PER_USER / 2;
      Instant blockStart = SEED_EPOCH.plusSeconds(u * pairs * PAIR_GAP_SECONDS);
      ObjectId user = new ObjectId(Date.from(blockStart));
      ObjectId[] sessionIds = new ObjectId[SESSIONS_PER_USER];
      Instant[] first = new Instant[SESSIONS_PER_USER];
      Instant[] last = new Instant[SESSIONS_PER_USER];
      for (int k = 0; k < SESSIONS_PER_USER; k++) {
        sessionIds[k] = new ObjectId(Date.from(blockStart.plusSeconds(k * PAIR_GAP_SECONDS)));
      }
      List<Document> msgs = new ArrayList<>(MESSAGES_PER_USER);
      for (int q = 0; q < pairs; q++) {
        int k = q % SESSIONS_PER_USER;
        Instant at = blockStart.plusSeconds(q * PAIR_GAP_SECONDS);
        Date date = Date.from(at);
        Document question = userMessage(new ObjectId(date), user, sessionIds[k], Text.content(rnd), at);
        msgs.add(question);
        msgs.add(completedReply(new ObjectId(date), user, sessionIds[k], question.getObjectId("_id"),
            Text.content(rnd), at, rnd));
        if (first[k] == null) {
          first[k] = at;
        }
        last[k] = at;
      }
      List<Document> sess = new ArrayList<>(SESSIONS_PER_USER);
      for (int k = 0; k < SESSIONS_PER_USER; k++) {
        sess.add(sessionDoc(sessionIds[k], user, Text.title(u, k, rnd), first[k], last[k], MESSAGES_PER_SESSION));
      }
      return new List[] {msgs, sess};
    }

    static Document userMessage(ObjectId id, ObjectId user, ObjectId session, String content, Instant at) {
      return new Document("_id", id).append("userId", user).append("chatSessionId", session)
          .append("messageType", "user").append("content", content).append("status", "completed")
          .append("attempts", 0).append("createdAt", Date.from(at)).append("updatedAt", Date.from(at));
    }

    /** A placeholder after claim + completeGeneration: the lease fields unset, model/usage/context set. */
    static Document completedReply(ObjectId id, ObjectId user, ObjectId session, ObjectId replyTo, String content,
        Instant at, SplittableRandom rnd) {
      return new Document("_id", id).append("userId", user).append("chatSessionId", session)
          .append("messageType", "ai_report").append("content", content).append("status", "completed")
          .append("attempts", 1).append("createdAt", Date.from(at))
          .append("updatedAt", Date.from(at.plusMillis(2_000 + rnd.nextInt(6_000))))
          .append("replyTo", replyTo).append("model", "claude-sonnet-4-5")
          .append("usage", new Document("inputTokens", (long) (200 + rnd.nextInt(4_000)))
              .append("outputTokens", (long) (content.length() / 4)))
          .append("stopReason", "end_turn")
          .append("context", new Document("messagesUsed", rnd.nextInt(40)).append("messagesDropped", 0));
    }

    static Document sessionDoc(ObjectId id, ObjectId user, String title, Instant created, Instant lastMessage,
        long messageCount) {
      return new Document("_id", id).append("userId", user).append("title", title)
          .append("createdAt", Date.from(created)).append("updatedAt", Date.from(lastMessage))
          .append("messageCount", messageCount).append("lastMessageAt", Date.from(lastMessage));
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /** Completes with the publisher's last item once it completes. */
  static <T> CompletableFuture<T> done(Publisher<T> publisher) {
    CompletableFuture<T> f = new CompletableFuture<>();
    publisher.subscribe(new Subscriber<T>() {
      private T last;

      @Override
      public void onSubscribe(Subscription s) {
        s.request(Long.MAX_VALUE);
      }

      @Override
      public void onNext(T t) {
        last = t;
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        f.complete(last);
      }
    });
    return f;
  }

  /** Deterministic conversation-like text. */
  static final class Text {
    private static final String[] WORDS = (
        "the report quarterly revenue team should we could please summarise draft a plan for next week "
            + "customer feedback shows that onboarding takes too long and support tickets grew by ten percent "
            + "compare this with last year budget forecast risks mitigation timeline owner launch market "
            + "analysis pricing competitors strategy hiring roadmap milestones dependencies metrics growth "
            + "retention churn survey results interview notes meeting agenda action items follow up email "
            + "outline section introduction conclusion appendix table chart figures assumptions scenario "
            + "travel itinerary hotel flight museum restaurant weather packing list").split(" ");

    private Text() {}

    /** 200–500 characters of sentences. */
    static String content(SplittableRandom rnd) {
      int target = 200 + rnd.nextInt(301);
      StringBuilder sb = new StringBuilder(target + 16);
      boolean startOfSentence = true;
      while (sb.length() < target) {
        String w = WORDS[rnd.nextInt(WORDS.length)];
        if (startOfSentence) {
          sb.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
        } else {
          sb.append(w);
        }
        startOfSentence = rnd.nextInt(12) == 0;
        sb.append(startOfSentence ? ". " : " ");
      }
      return sb.toString().strip();
    }

    static String title(long u, int k, SplittableRandom rnd) {
      return "Seeded chat " + u + "." + k + ": " + WORDS[rnd.nextInt(WORDS.length)];
    }

    static String question(int i) {
      return "Question " + i + ": please summarise the quarterly report for the team, compare revenue with last "
          + "year's budget forecast, list the main risks with an owner for each, and draft three action items "
          + "for next week's meeting agenda.";
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /** Runs {@code body} on a thread of its own (it may block for minutes) and completes on this context. */
  static <T> Future<T> offContext(Vertx vertx, Callable<T> body) {
    Context ctx = vertx.getOrCreateContext();
    Promise<T> p = Promise.promise();
    Thread t = new Thread(() -> {
      try {
        T v = body.call();
        ctx.runOnContext(x -> p.complete(v));
      } catch (Throwable e) {
        ctx.runOnContext(x -> p.fail(e));
      }
    }, "store-scale-seeder");
    t.setDaemon(true);
    t.start();
    return p.future();
  }

  static <T> Future<T> within(Vertx vertx, Future<T> f, long ms, String what) {
    Promise<T> p = Promise.promise();
    long timer = vertx.setTimer(ms, x -> p.tryFail(new TimeoutException(what + ": no answer within " + ms + " ms")));
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        p.tryComplete(ar.result());
      } else {
        p.tryFail(ar.cause());
      }
    });
    return p.future();
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      log.warn("cannot delete {}: {}", root, e.toString());
    }
  }

  static long heapAfterGc() throws InterruptedException {
    System.gc();
    Thread.sleep(200);
    System.gc();
    Runtime rt = Runtime.getRuntime();
    return (rt.totalMemory() - rt.freeMemory()) >> 20;
  }

  // ---- report -------------------------------------------------------------------------------------

  private static String mb(long bytes) {
    return bytes < 0 ? "-" : String.format("%.1f", bytes / 1048576.0);
  }

  private static String ms(List<? extends Number> v) {
    return v.isEmpty() ? "      -      -      -"
        : String.format("%6.1f %6.1f %6.1f", Bench.percentile(v, 50), Bench.percentile(v, 90),
            Bench.percentile(v, 100));
  }

  /** The p50 latency the verdict uses: at the socket.io client, or on the bus without a socket. */
  private static double firstP50(Row r, boolean socket) {
    return Bench.percentile(socket ? r.sends().socketFirst() : r.sends().busFirst(), 50);
  }

  private static double doneP50(Row r, boolean socket) {
    return Bench.percentile(socket ? r.sends().socketDone() : r.sends().busDone(), 50);
  }

  private static boolean valid(Row r) {
    Sends x = r.sends();
    return !x.samples().isEmpty() && x.errors() == 0 && x.socketMissing() == 0
        && r.get().ok() > 0 && r.get().errors() == 0 && r.claims().ok() > 0 && r.claims().errors() == 0;
  }

  private static double[] ratios(Row r, Row base, boolean socket) {
    return new double[] {
        firstP50(r, socket) / Math.max(0.001, firstP50(base, socket)),
        doneP50(r, socket) / Math.max(0.001, doneP50(base, socket)),
        base.get().perSecond() / Math.max(0.001, r.get().perSecond()),
        base.claims().perSecond() / Math.max(0.001, r.claims().perSecond())};
  }

  private static boolean startupOk(Row r) {
    return !r.backend().equals("h2") || (r.startupMs() >= 0 && r.startupMs() < H2_OPEN_LIMIT_MS);
  }

  private static boolean pass(Row r, Row base, boolean socket) {
    if (!valid(r) || !startupOk(r)) {
      return false;
    }
    for (double x : ratios(r, base, socket)) {
      if (x > TARGET) {
        return false;
      }
    }
    return true;
  }

  private static void logRow(Row r, Row base, boolean socket) {
    Sends x = r.sends();
    log.info("[{}] size {}: seeded {} messages in {} s ({} msg/s); mongo.mv {} MB after seeding, {} MB after "
            + "reopen; heap {} MB; startup {}", r.backend(), r.size(), r.seededMessages(),
        String.format("%.1f", r.seedSeconds()),
        r.seededMessages() == 0 ? "-" : String.format("%.0f", r.seededMessages() / r.seedSeconds()),
        mb(r.mvAfterSeed()), mb(r.mvAfterOpen()), r.heapMb(), r.startup() == null ? "n/a"
            : r.startup().healthyMs() + " ms (deployed after " + r.startup().deployedMs() + " ms)");
    log.info("[{}] size {}: sends {}/{}{} errors {}; socket first delta p50/p90/max {} ms, completed {} ms; bus "
            + "first delta {} ms, completed {} ms", r.backend(), r.size(), x.samples().size(), x.requested(),
        x.budgetHit() ? " (send budget reached)" : "", x.errors(), ms(x.socketFirst()), ms(x.socketDone()),
        ms(x.busFirst()), ms(x.busDone()));
    log.info("[{}] size {}: GET /chats/:id/messages {} req/s (p50 {} ms, {} errors); claimGeneration {} claims/s "
            + "(p50 {} ms, {} not claimed)", r.backend(), r.size(), String.format("%.1f", r.get().perSecond()),
        String.format("%.1f", Bench.percentile(r.get().micros(), 50) / 1000), r.get().errors(),
        String.format("%.1f", r.claims().perSecond()),
        String.format("%.1f", Bench.percentile(r.claims().micros(), 50) / 1000), r.claims().errors());
    double[] q = ratios(r, base, socket);
    log.info("[{}] size {} vs size {}: first delta {}x, completed {}x, GET {}x, claims {}x slower -> {}{}", r.backend(),
        r.size(), base.size(), String.format("%.2f", q[0]), String.format("%.2f", q[1]), String.format("%.2f", q[2]),
        String.format("%.2f", q[3]), Bench.verdict(pass(r, base, socket)), valid(r) ? "" : " (invalid measurement)");
  }

  private static boolean report(Settings s, List<Row> rows) {
    boolean socket = s.socket();
    log.info("StoreScaleBenchmark results ({} date {}); latencies in ms, POST -> event {}; seeding through the "
            + "reactive-streams driver, insertMany of {} messages, {} in flight", String.join(",", s.backends()),
        LocalDate.now(ZoneOffset.UTC), socket ? "at a socket.io-client (node), bus figures alongside"
            : "on the event bus (chat.events.*)", MESSAGES_PER_USER, SEED_IN_FLIGHT);
    log.info(String.format("%-7s %8s %9s %8s %9s %10s %10s %8s %11s %10s", "backend", "size", "seeded", "seed s",
        "msg/s", "mv MB", "reopen MB", "heap MB", "deployed ms", "health ms"));
    for (Row r : rows) {
      log.info(String.format("%-7s %8d %9d %8.1f %9s %10s %10s %8d %11s %10s", r.backend(), r.size(),
          r.seededMessages(), r.seedSeconds(),
          r.seededMessages() == 0 ? "-" : String.format("%.0f", r.seededMessages() / r.seedSeconds()),
          mb(r.mvAfterSeed()), mb(r.mvAfterOpen()), r.heapMb(),
          r.startup() == null ? "n/a" : String.valueOf(r.startup().deployedMs()),
          r.startup() == null ? "n/a" : String.valueOf(r.startup().healthyMs())));
    }
    log.info(String.format("%-7s %8s %7s %-22s %-22s %-22s %-22s", "backend", "size", "sends",
        "socket 1st p50/p90/max", "socket done p50/p90/max", "bus 1st p50/p90/max", "bus done p50/p90/max"));
    for (Row r : rows) {
      Sends x = r.sends();
      log.info(String.format("%-7s %8d %3d/%-3d %-22s %-22s %-22s %-22s", r.backend(), r.size(), x.samples().size(),
          x.requested(), ms(x.socketFirst()), ms(x.socketDone()), ms(x.busFirst()), ms(x.busDone())));
    }
    log.info(String.format("%-7s %8s %10s %8s %6s %10s %8s %6s", "backend", "size", "GET req/s", "p50 ms", "errors",
        "claims/s", "p50 ms", "failed"));
    for (Row r : rows) {
      log.info(String.format("%-7s %8d %10.1f %8.1f %6d %10.1f %8.1f %6d", r.backend(), r.size(),
          r.get().perSecond(), Bench.percentile(r.get().micros(), 50) / 1000, r.get().errors(),
          r.claims().perSecond(), Bench.percentile(r.claims().micros(), 50) / 1000, r.claims().errors()));
    }
    log.info(String.format("%-7s %8s %10s %10s %8s %8s %10s %s", "backend", "size", "1st delta", "completed",
        "GET", "claims", "startup", "verdict (ratio to the first size; target <= " + TARGET + "x)"));
    boolean pass = true;
    for (String backend : s.backends()) {
      List<Row> mine = rows.stream().filter(r -> r.backend().equals(backend)).toList();
      if (mine.size() != s.sizes().size()) {
        log.info("{}: only {} of {} sizes measured", backend, mine.size(), s.sizes().size());
        pass = false;
      }
      if (mine.isEmpty()) {
        continue;
      }
      Row base = mine.get(0);
      for (Row r : mine) {
        double[] x = ratios(r, base, socket);
        boolean ok = pass(r, base, socket);
        String why = !valid(r) ? "invalid measurement" : !startupOk(r) ? "startup >= 15 s" : "";
        log.info(String.format("%-7s %8d %9.2fx %9.2fx %7.2fx %7.2fx %10s %s %s", r.backend(), r.size(), x[0], x[1],
            x[2], x[3], r.startupMs() < 0 ? "n/a" : r.startupMs() + " ms", Bench.verdict(ok), why));
        pass &= ok;
      }
    }
    log.info("criteria: at every size, p50 POST -> first delta and POST -> completed ({}) within {}x of the first "
            + "size, GET /chats/:id/messages and claims/s at least 1/{} of it; every reply completed, no request "
            + "failed; h2 reopens (start -> /health 200) in under {} s", socket ? "socket.io client" : "bus", TARGET,
        TARGET, H2_OPEN_LIMIT_MS / 1000);
    return pass;
  }
}
