package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.FakeAnthropicServer.Recorded;
import com.aichat.ai.context.ContextBuilder;
import com.aichat.contract.ChatMessage;
import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import io.vertx.junit5.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

@ExtendWith(VertxExtension.class)
@DisplayName("The context window: its cost depends on the window, not on the session's length")
class ContextWindowTest {

  private static final Logger log = LoggerFactory.getLogger(ContextWindowTest.class);
  private static final int MAX_TURNS = 40;
  private static final int ROUNDS = 20;

  private GenerationHarness h;
  private MongoClient mongo;
  private String user;

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    int port = TestApp.freePort();
    user = GenerationHarness.newUserId();
    JsonObject overrides = new JsonObject()
        .put("mongo", new JsonObject().put("embedded_port", port))
        .put("context", new JsonObject().put("max_turns", MAX_TURNS).put("token_budget", 1_000_000));
    GenerationHarness.start(vertx, dir, overrides).onComplete(ctx.succeeding(started -> {
      h = started;
      mongo = MongoClient.create(vertx, new JsonObject()
          .put("connection_string", "mongodb://127.0.0.1:" + port)
          .put("db_name", h.app().config().mongo().database()));
      ctx.completeNow();
    }));
  }

  @AfterEach
  void stop(VertxTestContext ctx) {
    mongo.close().compose(v -> h.close()).onComplete(ctx.succeedingThenComplete());
  }

  /** History message {@code i} of a seeded session: user and ai_report alternate, all completed. */
  static JsonObject historyDoc(String userId, String sessionId, int i, Instant at) {
    return new JsonObject()
        .put("_id", new JsonObject().put("$oid", new ObjectId().toHexString()))
        .put("userId", new JsonObject().put("$oid", userId))
        .put("chatSessionId", new JsonObject().put("$oid", sessionId))
        .put("messageType", i % 2 == 0 ? "user" : "ai_report")
        .put("content", "history message " + i)
        .put("status", "completed")
        .put("attempts", i % 2 == 0 ? 0 : 1)
        .put("createdAt", new JsonObject().put("$date", at.toString()))
        .put("updatedAt", new JsonObject().put("$date", at.toString()));
  }

  /** A session with {@code count} completed messages, user and ai_report alternating, bulk-inserted. */
  private Future<String> seededSession(int count) {
    return h.newSession(user).compose(s -> {
      Instant start = Instant.now().minusSeconds(count + 60L);
      List<BulkOperation> ops = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ops.add(BulkOperation.createInsert(historyDoc(user, s.id(), i, start.plusSeconds(i))));
      }
      Future<Void> chain = Future.succeededFuture();
      for (int from = 0; from < ops.size(); from += 1000) {
        List<BulkOperation> batch = ops.subList(from, Math.min(ops.size(), from + 1000));
        chain = chain.compose(v -> mongo.bulkWrite("prompthistories", batch).mapEmpty());
      }
      return chain.map(v -> s.id());
    });
  }

  /** Average milliseconds of one context build (the loadHistory read plus the turn rules) over ROUNDS. */
  private Future<Double> timeContextBuilds(String sessionId) {
    ContextBuilder builder = new ContextBuilder(MAX_TURNS, 1_000_000, 4);
    long started = System.nanoTime();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < ROUNDS; i++) {
      chain = chain.compose(v -> h.store()
          .loadHistory(sessionId, Instant.now(), null, builder.readLimit())
          .map(history -> {
            assertThat(history).hasSizeLessThanOrEqualTo(builder.readLimit());
            builder.build(history, "q");
            return null;
          }));
    }
    return chain.map(v -> (System.nanoTime() - started) / 1e6 / ROUNDS);
  }

  @Test
  @Timeout(value = 120, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a 10,000-message session sends only the newest max_turns messages and records what it dropped")
  void tenThousandMessageSessionReadsOnlyTheWindow(VertxTestContext ctx) {
    h.fake().script("window-q", FakeAnthropicServer.stream(List.of("ok"), 1));
    String[] big = new String[1];
    String[] small = new String[1];
    seededSession(10_000)
        .compose(id -> {
          big[0] = id;
          return seededSession(100);
        })
        .compose(id -> {
          small[0] = id;
          return h.ask(user, big[0], "window-q over the long session");
        })
        .compose(reply -> {
          ctx.verify(() -> {
            assertThat(reply.context().messagesUsed()).isEqualTo(MAX_TURNS);
            assertThat(reply.context().messagesDropped()).isGreaterThanOrEqualTo(1);
            Recorded req = h.fake().requestsFor("window-q").get(0);
            JsonArray messages = req.body().getJsonArray("messages");
            assertThat(messages).hasSize(MAX_TURNS + 1);
            assertThat(Recorded.textOf(messages.getJsonObject(0))).isEqualTo("history message " + (10_000 - MAX_TURNS));
            assertThat(Recorded.textOf(messages.getJsonObject(MAX_TURNS - 1))).isEqualTo("history message 9999");
            assertThat(req.body().encode().length()).isLessThan(10_000);
          });
          return timeContextBuilds(small[0]);
        })
        .compose(smallMs -> timeContextBuilds(big[0]).map(bigMs -> new double[] {smallMs, bigMs}))
        .onComplete(ctx.succeeding(ms -> ctx.verify(() -> {
          log.info("context build (loadHistory of {} + turn rules), mean of {}: 100-message session {} ms, "
              + "10,000-message session {} ms (embedded server: no secondary indexes, it scans the collection)",
              MAX_TURNS + 1, ROUNDS, String.format("%.2f", ms[0]), String.format("%.2f", ms[1]));
          assertThat(ms[1]).isLessThan(1000);
          ctx.completeNow();
        })));
  }
}
