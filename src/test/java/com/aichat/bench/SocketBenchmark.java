package com.aichat.bench;

import com.aichat.ai.FakeAnthropicServer;
import com.aichat.ai.GenerationHarness;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.gateway.NodeScenario;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 4's gateway numbers with the real {@code socket.io-client@4} (node, {@code src/test/js}):
 * <ul>
 *   <li>{@code fanout}: {@value #CLIENTS} clients in one session room watch a real reply (sent over HTTP,
 *       streamed by the fake Claude); for every delta, the time from its publication on the bus until
 *       each client, and until the last of the clients, received it. Every client must receive every
 *       delta and assemble the stored text exactly.</li>
 *   <li>{@code sessions}: {@value #SESSIONS} sequential default-transport sessions (polling, then the
 *       upgrade), each connecting, upgrading, getting an ack and a user-room broadcast (a real rename over
 *       HTTP); 0 failures required.</li>
 * </ul>
 * Node and the service share the machine's 2 cores; node and Java read the same wall clock (ms).
 *
 * <p>Run (after {@code npm ci} in src/test/js, which {@code test-compile} does): {@code mvn -B -q
 * test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=com.aichat.bench.SocketBenchmark
 * [-Dbench.socket=fanout|sessions|both]}
 */
public final class SocketBenchmark {

  private static final Logger log = LoggerFactory.getLogger(SocketBenchmark.class);
  static final int CLIENTS = 200;
  static final int SESSIONS = 100;
  static final int CHUNKS = 300;
  static final long CHUNK_DELAY_MS = 5;

  private final Map<String, Map<Long, Long>> published = new ConcurrentHashMap<>();

  public static void main(String[] args) {
    String which = System.getProperty("bench.socket", "both");
    Bench.run("SocketBenchmark[" + which + "]", 170, vertx -> new SocketBenchmark().run(vertx, which));
  }

  private Future<Boolean> run(Vertx vertx, String which) {
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_DELTA, m -> published
        .computeIfAbsent(m.body().getString("messageId"), k -> new ConcurrentHashMap<>())
        .put(m.body().getLong("seq"), System.currentTimeMillis()));
    return Bench.start(vertx, "memory", null).compose(h -> {
      h.fake().defaultScenario(FakeAnthropicServer.stream(FakeAnthropicServer.words(CHUNKS), CHUNK_DELAY_MS));
      WebClient http = Bench.client(vertx, 4);
      Future<Boolean> fan = which.equals("sessions") ? Future.succeededFuture(true) : fanout(vertx, h, http);
      return fan
          .compose(ok -> which.equals("fanout") ? Future.succeededFuture(ok)
              : sessions(vertx, h, http).map(ok2 -> ok && ok2))
          .eventually(() -> h.close());
    });
  }

  private Future<Boolean> fanout(Vertx vertx, GenerationHarness h, WebClient http) {
    int port = h.app().httpPort();
    String token = Bench.token(vertx, GenerationHarness.newUserId());
    String[] replyId = new String[1];
    return Bench.newSession(http, port, token, "crowd").compose(sessionId -> {
      JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + h.app().gatewayPort()).put("token", token)
          .put("clients", CLIENTS).put("sessionId", sessionId).put("transports", new JsonArray().add("websocket"));
      return NodeScenario.start(vertx, "fanout", args, ready ->
              Bench.send(http, port, token, sessionId, "fan-out question").onSuccess(id -> replyId[0] = id))
          .result()
          .compose(r -> h.finalReply(replyId[0]).map(m -> fanoutReport(r, m)));
    });
  }

  private boolean fanoutReport(JsonObject r, ChatMessage stored) {
    Map<Long, Long> pub = published.getOrDefault(stored.id(), Map.of());
    List<Long> perDelivery = new ArrayList<>();
    Map<Long, Long> lastArrival = new HashMap<>();
    int incomplete = 0;
    JsonArray clients = r.getJsonArray("arrivals");
    for (int c = 0; c < clients.size(); c++) {
      JsonArray arrivals = clients.getJsonArray(c);
      if (arrivals.size() != pub.size()) {
        incomplete++;
      }
      for (int i = 0; i < arrivals.size(); i++) {
        long seq = arrivals.getJsonArray(i).getLong(0);
        long at = arrivals.getJsonArray(i).getLong(1);
        Long sent = pub.get(seq);
        if (sent != null) {
          perDelivery.add(at - sent);
          lastArrival.merge(seq, at, Math::max);
        }
      }
    }
    List<Long> allReceived = new ArrayList<>();
    lastArrival.forEach((seq, at) -> allReceived.add(at - pub.get(seq)));
    String hash = NodeScenario.sha256(stored.content());
    boolean textsOk = r.getJsonArray("textHashes").equals(new JsonArray().add(hash))
        && r.getJsonArray("completedHashes").equals(new JsonArray().add(hash));
    boolean ok = !r.getBoolean("timedOut") && clients.size() == CLIENTS && incomplete == 0 && textsOk
        && r.getInteger("violations") == 0 && !pub.isEmpty();
    log.info("fan-out: {} clients (websocket) connected+joined in {} ms; reply of {} chunks x {} ms -> {} deltas",
        clients.size(), r.getLong("connectedMs"), CHUNKS, CHUNK_DELAY_MS, pub.size());
    log.info(String.format("%-34s %8s %8s %8s %8s", "delta publish -> received", "p50 ms", "p95 ms", "p99 ms",
        "max ms"));
    log.info(String.format("%-34s %8.0f %8.0f %8.0f %8.0f", "each client (" + perDelivery.size() + " deliveries)",
        Bench.percentile(perDelivery, 50), Bench.percentile(perDelivery, 95), Bench.percentile(perDelivery, 99),
        Bench.percentile(perDelivery, 100)));
    log.info(String.format("%-34s %8.0f %8.0f %8.0f %8.0f", "all " + CLIENTS + " clients (" + allReceived.size()
        + " deltas)", Bench.percentile(allReceived, 50), Bench.percentile(allReceived, 95),
        Bench.percentile(allReceived, 99), Bench.percentile(allReceived, 100)));
    log.info("fan-out: clients missing a delta={}, offset violations={}, texts equal stored content={} -> {}",
        incomplete, r.getInteger("violations"), textsOk, Bench.verdict(ok));
    return ok;
  }

  private Future<Boolean> sessions(Vertx vertx, GenerationHarness h, WebClient http) {
    int port = h.app().httpPort();
    String token = Bench.token(vertx, GenerationHarness.newUserId());
    return Bench.newSession(http, port, token, "rounds").compose(sessionId -> {
      JsonObject args = new JsonObject().put("url", "http://127.0.0.1:" + h.app().gatewayPort()).put("token", token)
          .put("count", SESSIONS);
      return NodeScenario.start(vertx, "sessions", args, ready -> http
              .patch(port, "127.0.0.1", "/chats/" + sessionId).bearerTokenAuthentication(token)
              .sendJsonObject(new JsonObject().put("title", "round " + ready.getInteger("i"))))
          .result();
    }).map(r -> {
      boolean ok = r.getJsonArray("failures").isEmpty() && r.getInteger("upgraded") == SESSIONS;
      log.info("default transports: {} sequential sessions, {} upgraded, {} failures {}, {} ms ({} ms/session) -> {}",
          r.getInteger("count"), r.getInteger("upgraded"), r.getJsonArray("failures").size(),
          r.getJsonArray("failures").encode(), r.getLong("ms"), r.getLong("ms") / Math.max(1, r.getInteger("count")),
          Bench.verdict(ok));
      return ok;
    });
  }
}
