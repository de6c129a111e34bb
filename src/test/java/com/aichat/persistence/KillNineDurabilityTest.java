package com.aichat.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatSession;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledged means durable: a child JVM writes through the embedded H2 store, is killed with
 * SIGKILL right after 500 acknowledgements, and every acknowledged write is found after a restart on
 * the same data directory.
 */
@ExtendWith(VertxExtension.class)
class KillNineDurabilityTest {

  private static final Logger log = LoggerFactory.getLogger(KillNineDurabilityTest.class);
  private static final int ACKS_BEFORE_KILL = 500;

  @Test
  @DisplayName("Every write acknowledged before kill -9 of the process is present after the restart")
  void everyAcknowledgedWriteSurvivesKillNine(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir)
      throws Exception {
    String userId = new ObjectId().toHexString();
    Set<String> acked = new HashSet<>();
    Process child = startChild(dataDir, userId);
    long started = System.nanoTime();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (acked.size() < ACKS_BEFORE_KILL && (line = out.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(line.substring(4).trim());
        } else if (line.startsWith("FAILED")) {
          throw new AssertionError("child failed to start: " + line);
        }
      }
      // SIGKILL (ProcessHandle.destroyForcibly on Unix): no shutdown hooks, no final commit.
      child.destroyForcibly();
      assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    log.info("child acknowledged {} durable writes in {} s (including JVM start) before kill -9",
        acked.size(), String.format("%.2f", seconds));
    assertThat(acked).hasSize(ACKS_BEFORE_KILL);
    assertThat(child.exitValue()).isEqualTo(137);

    ChatStore store = ChatStore.client(vertx);
    int port = com.aichat.testing.TestApp.freePort();
    io.vertx.ext.mongo.MongoClient direct = io.vertx.ext.mongo.MongoClient.create(vertx,
        new io.vertx.core.json.JsonObject().put("connection_string", "mongodb://127.0.0.1:" + port)
            .put("db_name", "chat"));
    PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.embedded("h2", port), dataDir)
        .compose(id -> allSessions(store, userId, null, new ArrayList<>()))
        .compose(found -> direct
            .runCommand("validate", new io.vertx.core.json.JsonObject().put("validate", "chatsessions"))
            .map(validation -> Map.entry(found, validation)))
        .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
          List<ChatSession> found = result.getKey();
          Set<String> ids = new HashSet<>(found.stream().map(ChatSession::id).toList());
          assertThat(ids).hasSameSizeAs(found).containsAll(acked);
          // The indexes agree with the documents: no missing and no phantom entries.
          assertThat(result.getValue().getBoolean("valid")).as("validate %s", result.getValue()).isTrue();
          assertThat(result.getValue().getJsonObject("keysPerIndex").getLong("userId_updatedAt_id"))
              .isEqualTo(found.size());
          ctx.completeNow();
        })));
    assertThat(ctx.awaitCompletion(60, TimeUnit.SECONDS)).isTrue();
  }

  private static Process startChild(Path dataDir, String userId) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = List.of(
        java,
        "-cp", System.getProperty("java.class.path"),
        "-Dlogback.configurationFile=logback-test.xml",
        "-Xmx256m",
        DurabilityChild.class.getName(),
        dataDir.toString(),
        userId,
        "8");
    return new ProcessBuilder(cmd)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static Future<List<ChatSession>> allSessions(
      ChatStore store, String userId, String cursor, List<ChatSession> acc) {
    return store.listSessions(userId, null, 100, cursor).compose(page -> {
      acc.addAll(page.items());
      return page.nextCursor() == null
          ? Future.succeededFuture(acc)
          : allSessions(store, userId, page.nextCursor(), acc);
    });
  }

}
