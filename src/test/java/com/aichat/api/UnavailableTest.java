package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database that goes away: the service runs against an external MongoDB-wire server (configured by
 * connection string, with an explicit HS256 secret) that the test then shuts down.
 */
@ExtendWith(VertxExtension.class)
class UnavailableTest {

  @Test
  @DisplayName("When the database is unreachable, /health and /chats answer 503 UNAVAILABLE without driver text")
  void databaseDown(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    MongoServer server = new MongoServer(new MemoryBackend());
    int port = TestApp.freePort();
    server.bind("127.0.0.1", port);
    String token = TestTokens.token(vertx, TestTokens.newUserId());
    JsonObject overrides = ApiClient.apiOnly().put("mongo", new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + port)
        .put("server_selection_timeout_ms", 500));
    TestApp.start(vertx, dataDir, overrides)
        .compose(app -> {
          ApiClient api = new ApiClient(vertx, app.httpPort());
          return api.get("/health", null)
              .compose(up -> vertx.executeBlocking(() -> {
                    server.shutdownNow();
                    return up;
                  }))
              .compose(up -> Future.all(List.of(api.get("/health", null), api.get("/chats", token),
                      api.post("/chats", token, new JsonObject())))
                  .map(down -> List.of(up, down.<HttpResponse<Buffer>>resultAt(0), down.<HttpResponse<Buffer>>resultAt(1),
                      down.<HttpResponse<Buffer>>resultAt(2))));
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(expect(r.get(0), 200).getString("status")).isEqualTo("ok");
          for (HttpResponse<Buffer> down : r.subList(1, 4)) {
            assertThat(down.statusCode()).as(down.bodyAsString()).isEqualTo(503);
            assertThat(error(down).getString("code")).isEqualTo("UNAVAILABLE");
            assertThat(down.bodyAsString()).doesNotContainIgnoringCase("mongo").doesNotContain("Exception");
          }
          ctx.completeNow();
        })));
  }
}
