package com.aichat.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.persistence.ChatStore;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Many default-transport sessions (long-polling, then the upgrade to websocket) of the real
 * socket.io-client v4 while busy threads load the CPU: every session must connect, upgrade, join and
 * get an ack over the websocket. The upgrade races of netty-socketio only show when its I/O threads
 * and the Vert.x thread that acknowledges the CONNECT are descheduled at the wrong moment, hence the
 * load.
 *
 * <p>The default (300 sessions, 4 at a time, 2 busy threads) runs in {@code mvn verify} in well under
 * a minute. Larger runs: {@code -Dupgrade.stress.sessions=10000} (and {@code .parallel}, {@code .hogs}).
 */
@ExtendWith(VertxExtension.class)
@DisplayName("The polling→websocket upgrade under CPU load")
class GatewayUpgradeStressTest {

  private static final Logger log = LoggerFactory.getLogger(GatewayUpgradeStressTest.class);

  private static final int SESSIONS = Integer.getInteger("upgrade.stress.sessions", 300);
  private static final int PARALLEL = Integer.getInteger("upgrade.stress.parallel", 4);
  private static final int HOGS = Integer.getInteger("upgrade.stress.hogs", 2);

  private TestApp app;
  private final List<Thread> hogs = new ArrayList<>();
  private volatile boolean hogging;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    // one user opens every session: its per-user event budget and socket cap are not under test here
    JsonObject gateway = new JsonObject()
        .put("event_rate_per_sec", 100_000).put("event_burst", 1_000_000).put("max_sockets_per_user", 1000);
    TestApp.start(vertx, dir, new JsonObject().put("gateway", gateway)).onComplete(ctx.succeeding(a -> {
      app = a;
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stopHogs() throws InterruptedException {
    hogging = false;
    for (Thread t : hogs) {
      t.join(5_000);
    }
  }

  private void startHogs() {
    hogging = true;
    for (int i = 0; i < HOGS; i++) {
      Thread t = new Thread(() -> {
        long x = 0;
        while (hogging) {
          x = x * 6364136223846793005L + 1442695040888963407L;
        }
        if (x == 42) {
          log.trace("unreachable {}", x);
        }
      }, "cpu-hog-" + i);
      t.setDaemon(true);
      t.setPriority(Thread.NORM_PRIORITY);
      hogs.add(t);
      t.start();
    }
  }

  @Test
  @DisplayName("Default-transport sessions under CPU load all connect, upgrade, join and get their acks over the websocket")
  void upgradesUnderLoad(Vertx vertx, VertxTestContext ctx) throws Throwable {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    ChatStore store = ChatStore.client(vertx);
    String sessionId = store.createSession(userId, null, "upgrades")
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).id();
    JsonObject args = new JsonObject()
        .put("url", "http://127.0.0.1:" + app.gatewayPort())
        .put("token", token).put("sessionId", sessionId)
        .put("count", SESSIONS).put("parallel", PARALLEL);
    startHogs();
    NodeScenario.start(vertx, "upgrades", args, ready -> { }).result()
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          JsonArray failures = r.getJsonArray("failures");
          log.info("{} default-transport sessions ({} at a time, {} busy threads): {} failures, {} upgraded, {} ms",
              r.getInteger("count"), PARALLEL, HOGS, failures.size(), r.getInteger("upgraded"), r.getLong("ms"));
          for (Object f : failures) {
            log.warn("failed session: {}", ((JsonObject) f).encodePrettily());
          }
          assertThat(failures).as("failed sessions (stage, trace)").isEqualTo(new JsonArray());
          assertThat(r.getInteger("upgraded")).isEqualTo(SESSIONS);
          ctx.completeNow();
        })));
    // a session may take 4 × 10 s in the worst case; a healthy one takes well under 100 ms
    long boundSeconds = 60 + (long) SESSIONS * 2 / Math.max(1, PARALLEL);
    assertThat(ctx.awaitCompletion(boundSeconds, TimeUnit.SECONDS)).as("scenario finished").isTrue();
    if (ctx.failed()) {
      throw ctx.causeOfFailure();
    }
  }
}
