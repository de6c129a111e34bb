package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** subscription.mode = mongo: a field of the shared database's users collection decides. */
@ExtendWith(VertxExtension.class)
class SubscriptionMongoTest {

  @TempDir static Path dataDir;
  private static ApiClient api;
  private static MongoClient mongo;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    int port = TestApp.freePort();
    JsonObject overrides = ApiClient.apiOnly()
        .put("mongo", new JsonObject().put("embedded_port", port))
        .put("subscription", new JsonObject().put("mode", "mongo").put("collection", "users")
            .put("id_field", "_id").put("field_path", "billing.status").put("cache_seconds", 60));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      mongo = MongoClient.create(vertx, new JsonObject()
          .put("connection_string", "mongodb://127.0.0.1:" + port)
          .put("db_name", a.config().mongo().database()).put("useObjectId", true));
      ctx.completeNow();
    }));
  }

  private static Future<String> user(String status) {
    String id = TestTokens.newUserId();
    JsonObject doc = new JsonObject().put("_id", new JsonObject().put("$oid", id))
        .put("billing", new JsonObject().put("status", status));
    return mongo.insert("users", doc).map(x -> id);
  }

  @Test
  @DisplayName("An active user passes; a cancelled or unknown user gets 402; the verdict is cached")
  void checksUsersCollection(Vertx vertx, VertxTestContext ctx) {
    String unknown = TestTokens.newUserId();
    Future.all(user("active"), user("canceled"))
        .compose(ids -> {
          String active = TestTokens.token(vertx, ids.resultAt(0));
          String cancelled = TestTokens.token(vertx, ids.resultAt(1));
          return Future.all(List.of(api.get("/chats", active), api.get("/chats", cancelled),
                  api.get("/chats", TestTokens.token(vertx, unknown))))
              // Revoking in the database does not affect the cached verdict within cache_seconds.
              .compose(first -> mongo.updateCollection("users",
                      new JsonObject().put("_id", new JsonObject().put("$oid", ids.<String>resultAt(0))),
                      new JsonObject().put("$set", new JsonObject().put("billing.status", "canceled")))
                  .compose(x -> api.get("/chats", active))
                  .map(cached -> List.of(first.<HttpResponse<Buffer>>resultAt(0), first.<HttpResponse<Buffer>>resultAt(1),
                      first.<HttpResponse<Buffer>>resultAt(2), cached)));
        })
        .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
          assertThat(r.get(0).statusCode()).as(r.get(0).bodyAsString()).isEqualTo(200);
          assertThat(r.get(1).statusCode()).isEqualTo(402);
          assertThat(error(r.get(1)).getString("code")).isEqualTo("SUBSCRIPTION_REQUIRED");
          assertThat(r.get(2).statusCode()).isEqualTo(402);
          assertThat(r.get(3).statusCode()).isEqualTo(200);
          ctx.completeNow();
        })));
  }
}
