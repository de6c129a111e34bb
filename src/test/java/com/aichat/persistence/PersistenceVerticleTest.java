package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import static com.aichat.persistence.PersistenceTestSupport.errorOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ErrorCode;
import com.aichat.persistence.Conversations.SendResult;
import com.aichat.embedded.EmbeddedMongo;
import com.aichat.testing.TestApp;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Lifecycle of {@link PersistenceVerticle}: restarts on the same data, and an unreachable database. */
@ExtendWith(VertxExtension.class)
class PersistenceVerticleTest {

  private final String userId = new ObjectId().toHexString();

  @Test
  @DisplayName("Sessions and messages survive an undeploy and redeploy of the embedded H2 store")
  void dataSurvivesRestart(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    ChatStore store = ChatStore.client(vertx);
    MongoSettings h2 = PersistenceTestSupport.embedded("h2", 0);
    var seen = new Object() {
      String sessionId;
      SendResult sent;
    };
    PersistenceTestSupport.deploy(vertx, h2, dataDir)
        .compose(id -> store.createSession(userId, null, "keep me")
            .compose(s -> {
              seen.sessionId = s.id();
              return store.sendMessage(userId, s.id(), "remember this", "c-1");
            })
            .compose(sent -> {
              seen.sent = sent;
              return vertx.undeploy(id);
            }))
        .compose(v -> PersistenceTestSupport.deploy(vertx, h2, dataDir))
        .compose(id -> store.getSession(userId, seen.sessionId))
        .compose(session -> store.listMessages(userId, seen.sessionId, null, null, 10)
            .compose(page -> store.sendMessage(userId, seen.sessionId, "remember this", "c-1")
                .map(again -> {
                  ctx.verify(() -> {
                    assertThat(Files.exists(dataDir.resolve(EmbeddedMongo.STORE_FILE))).isTrue();
                    assertThat(session.title()).isEqualTo("keep me");
                    assertThat(session.messageCount()).isEqualTo(2);
                    assertThat(page.items()).containsExactly(seen.sent.userMessage(), seen.sent.reply());
                    // the unique index is still there after the reopen
                    assertThat(again.created()).isFalse();
                    assertThat(again.userMessage().id()).isEqualTo(seen.sent.userMessage().id());
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Main deploys the persistence verticle from the configuration, and the store answers on the bus")
  void deployedByMain(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    ChatStore store = ChatStore.client(vertx);
    TestApp.start(vertx, dataDir)
        .compose(app -> store.createSession(userId, null, "wired"))
        .compose(s -> store.getSession(userId, s.id()))
        .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
          assertThat(s.title()).isEqualTo("wired");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A second store on a data dir that is in use fails to start with a clear message")
  void secondOwnerOfDataDirIsRefused(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    MongoSettings h2 = PersistenceTestSupport.embedded("h2", 0);
    PersistenceTestSupport.deploy(vertx, h2, dataDir)
        .compose(id -> errorOf(PersistenceTestSupport.deploy(vertx, h2, dataDir)))
        .onComplete(ctx.succeeding(err -> ctx.verify(() -> {
          assertThat(err).hasMessageContaining("another instance");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Startup against an unreachable database fails quickly with UNAVAILABLE and no driver text")
  void unreachableAtStartup(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    String closed = "mongodb://127.0.0.1:" + TestApp.freePort();
    long started = System.currentTimeMillis();
    errorOf(PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.external(closed, "chat", 300), dataDir))
        .onComplete(ctx.succeeding(err -> ctx.verify(() -> {
          assertThat(ErrorCode.fromThrowable(err)).isEqualTo(ErrorCode.UNAVAILABLE);
          assertThat(err.getMessage()).isEqualTo("database unreachable");
          assertThat(System.currentTimeMillis() - started).isLessThan(5_000);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("When the database goes away, requests fail quickly with UNAVAILABLE and no driver text")
  void databaseLostAfterStartup(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    MongoServer server = new MongoServer(new MemoryBackend());
    int port = TestApp.freePort();
    server.bind("127.0.0.1", port);
    ChatStore store = ChatStore.client(vertx);
    var seen = new Object() {
      String sessionId;
      long lostAt;
    };
    PersistenceTestSupport.deploy(
            vertx, PersistenceTestSupport.external("mongodb://127.0.0.1:" + port, "chat", 300), dataDir)
        .compose(id -> store.createSession(userId, null, "before the outage"))
        .compose(s -> {
          seen.sessionId = s.id();
          return vertx.executeBlocking(() -> {
            server.shutdownNow();
            return null;
          });
        })
        .compose(v -> {
          seen.lostAt = System.currentTimeMillis();
          return Future.all(List.of(
              errorOf(store.getSession(userId, seen.sessionId)),
              errorOf(store.createSession(userId, null, "during the outage")),
              errorOf(store.listSessions(userId, null, 10, null))));
        })
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<Throwable> errors = all.list();
          assertThat(errors).extracting(ErrorCode::fromThrowable).containsOnly(ErrorCode.UNAVAILABLE);
          assertThat(errors).extracting(Throwable::getMessage).containsOnly("database unavailable");
          assertThat(System.currentTimeMillis() - seen.lostAt).isLessThan(5_000);
          ctx.completeNow();
        })));
  }
}
