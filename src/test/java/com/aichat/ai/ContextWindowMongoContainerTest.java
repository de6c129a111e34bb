package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.MongoDBContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * On a real MongoDB the history read is bounded by the {@code {chatSessionId, createdAt, _id}} index:
 * the profiler shows an index scan that examines about the window, not the 10,000-message session.
 * Skipped where Docker is not available.
 */
@Testcontainers(disabledWithoutDocker = true)
@ExtendWith(VertxExtension.class)
@DisplayName("The history window read on a real MongoDB (Testcontainers)")
class ContextWindowMongoContainerTest {

  @Container
  static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

  private static final int WINDOW = 41;

  @Test
  @DisplayName("loadHistory over a 10,000-message session is an index scan examining about the window")
  void historyReadIsIndexBounded(Vertx vertx, @TempDir Path dir, VertxTestContext ctx) {
    String database = "w" + new ObjectId().toHexString();
    String user = GenerationHarness.newUserId();
    JsonObject overrides = new JsonObject().put("mongo", new JsonObject()
        .put("connection_string", MONGO.getConnectionString())
        .put("database", database));
    MongoClient mongo = MongoClient.create(vertx, new JsonObject()
        .put("connection_string", MONGO.getConnectionString()).put("db_name", database));
    GenerationHarness[] h = new GenerationHarness[1];
    String[] session = new String[1];
    GenerationHarness.start(vertx, dir, overrides)
        .compose(started -> {
          h[0] = started;
          return h[0].newSession(user);
        })
        .compose(s -> {
          session[0] = s.id();
          Instant start = Instant.now().minusSeconds(20_000);
          List<BulkOperation> ops = new ArrayList<>();
          for (int i = 0; i < 10_000; i++) {
            ops.add(BulkOperation.createInsert(ContextWindowTest.historyDoc(user, s.id(), i, start.plusSeconds(i))));
          }
          return mongo.bulkWrite("prompthistories", ops);
        })
        .compose(r -> mongo.runCommand("profile", new JsonObject().put("profile", 2)))
        .compose(r -> h[0].store().loadHistory(session[0], Instant.now(), new ObjectId().toHexString(), WINDOW))
        .compose(history -> {
          ctx.verify(() -> assertThat(history).hasSize(WINDOW));
          return mongo.findWithOptions("system.profile",
              new JsonObject().put("ns", database + ".prompthistories").put("command.find", "prompthistories"),
              new FindOptions().setSort(new JsonObject().put("ts", -1)).setLimit(1));
        })
        .compose(profiled -> mongo.close().compose(v -> h[0].close()).map(v -> profiled))
        .onComplete(ctx.succeeding(profiled -> ctx.verify(() -> {
          assertThat(profiled).hasSize(1);
          JsonObject op = profiled.get(0);
          assertThat(op.getString("planSummary")).startsWith("IXSCAN");
          assertThat(op.getLong("docsExamined")).isLessThanOrEqualTo(2L * WINDOW);
          assertThat(op.getLong("keysExamined")).isLessThanOrEqualTo(2L * WINDOW + 1);
          ctx.completeNow();
        })));
  }
}
