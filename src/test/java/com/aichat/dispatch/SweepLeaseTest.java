package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.Main;
import com.aichat.AppConfig;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryContext;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14 part 5: three dispatcher nodes and a store-and-worker node in one Hazelcast cluster
 * (in-process clustered Vert.x instances on loopback, TCP-IP members, built by {@link Main#newVertx}).
 * Event-bus outbound interceptors on the dispatcher nodes see every sweep query they send to
 * {@code chat.persistence} and every job they offer a worker. Replies are stored straight through the
 * store (no dispatch), so only the recovery sweep can bring them to a worker.
 */
class SweepLeaseTest {

  private static final long SWEEP_MS = 700;

  @TempDir Path dir;
  private final List<Vertx> nodes = new ArrayList<>();
  private final List<String> sweepQueries = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> offers = new ConcurrentHashMap<>();
  private final Map<String, String> sessionOf = new ConcurrentHashMap<>();

  @AfterEach
  void close() throws Exception {
    for (Vertx v : nodes) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private AppConfig config(String name, JsonObject verticles, String cluster, List<Integer> ports, int port) {
    JsonArray members = new JsonArray();
    ports.forEach(p -> members.add("127.0.0.1:" + p));
    return AppConfig.from(TestApp.config(dir.resolve(name), new JsonObject()
        .put("verticles", verticles)
        .put("dispatch", new JsonObject().put("sweep_interval_ms", SWEEP_MS).put("pending_grace_ms", 0))
        .put("cluster", new JsonObject().put("enabled", true).put("host", "127.0.0.1").put("name", cluster)
            .put("port", port).put("members", members))));
  }

  private Vertx startNode(String name, AppConfig cfg, boolean dispatcher) throws Exception {
    Vertx v = Main.newVertx(cfg).toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
    nodes.add(v);
    if (dispatcher) {
      v.eventBus().addOutboundInterceptor(ctx -> {
        record(name, ctx);
        ctx.next();
      });
    }
    Main.start(v, cfg).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return v;
  }

  private void record(String node, DeliveryContext<Object> ctx) {
    String address = ctx.message().address();
    if (Addresses.RECOVERY.equals(address)
        && "findStrandedReplies".equals(ctx.message().headers().get(Addresses.ACTION_HEADER))) {
      sweepQueries.add(node);
    } else if ((address.equals(Addresses.AI_GENERATE) || address.startsWith(Addresses.aiWorker("")))
        && ctx.body() instanceof JsonObject body && body.getString("messageId") != null) {
      offers.computeIfAbsent(body.getString("messageId"), k -> new AtomicInteger()).incrementAndGet();
    }
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  @DisplayName("With three dispatcher nodes one sweeps per round, each stranded reply is offered once, and another takes over when the sweeper leaves")
  void oneSweepPerRoundAcrossNodes() throws Exception {
    String cluster = "chat-sweep-test-" + UUID.randomUUID();
    List<Integer> ports = List.of(TestApp.freePort(), TestApp.freePort(), TestApp.freePort(), TestApp.freePort());
    JsonObject store = new JsonObject().put("persistence", 1).put("worker", 1).put("dispatcher", 0)
        .put("api", 0).put("gateway", 0);
    JsonObject dispatcherOnly = new JsonObject().put("persistence", 0).put("worker", 0).put("dispatcher", 1)
        .put("api", 0).put("gateway", 0);
    Vertx storeNode = startNode("store", config("store", store, cluster, ports, ports.get(0)), false);
    List<String> names = List.of("d1", "d2", "d3");
    List<Vertx> dispatchers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      dispatchers.add(startNode(names.get(i), config(names.get(i), dispatcherOnly, cluster, ports, ports.get(i + 1)), true));
    }

    ChatStore client = ChatStore.client(storeNode);
    // one reply per user, so the per-user worker cap holds none back and each is claimed in its round
    List<String> replies = new ArrayList<>();
    Map<String, String> userOf = new ConcurrentHashMap<>();
    for (int i = 0; i < 20; i++) {
      String user = TestTokens.newUserId();
      String session = await(client.createSession(user, null, "stranded " + i)).id();
      String id = await(client.sendMessage(user, session, "hello " + i, null)).reply().id();
      replies.add(id);
      sessionOf.put(id, session);
      userOf.put(id, user);
    }
    for (String id : replies) {
      ChatMessage done = awaitCompleted(client, userOf.get(id), sessionOf.get(id), id);
      assertThat(done.attempts()).isEqualTo(1);
    }
    int queriesAtEnd = sweepQueries.size();
    awaitQueries(queriesAtEnd + 3);

    assertThat(offers.keySet()).containsAll(replies);
    assertThat(replies).allSatisfy(id -> assertThat(offers.get(id).get()).as("offers of reply " + id).isEqualTo(1));
    List<String> before = List.copyOf(sweepQueries);
    assertThat(before).as("nodes that sent sweep queries").containsOnly(before.get(0));

    // the sweeper leaves; another dispatcher takes the lease once it expires
    String leader = before.get(0);
    Vertx leaving = dispatchers.get(names.indexOf(leader));
    nodes.remove(leaving);
    await(leaving.close());
    int mark = sweepQueries.size();
    awaitQueries(mark + 4);
    List<String> after = List.copyOf(sweepQueries.subList(mark, sweepQueries.size()));
    assertThat(after).doesNotContain(leader).containsOnly(after.get(0));
  }

  private void awaitQueries(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (sweepQueries.size() < n) {
      assertThat(System.nanoTime()).as("sweep queries so far: " + sweepQueries).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static ChatMessage awaitCompleted(ChatStore client, String user, String session, String id)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      ChatMessage stored = await(client.getMessage(user, session, id));
      if (stored.status() == MessageStatus.COMPLETED) {
        return stored;
      }
      assertThat(System.nanoTime()).as("reply " + id + " completed").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
