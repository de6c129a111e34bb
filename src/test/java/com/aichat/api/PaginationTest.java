package com.aichat.api;

import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pagination over documents with identical timestamps, written straight into the embedded database
 * (the API itself never produces equal timestamps on purpose), in an order unrelated to their ids.
 */
@ExtendWith(VertxExtension.class)
class PaginationTest {

  @TempDir static Path dataDir;
  private static ApiClient api;
  private static MongoClient mongo;

  @BeforeAll
  static void start(Vertx vertx, VertxTestContext ctx) {
    int port = TestApp.freePort();
    JsonObject overrides = ApiClient.apiOnly().put("mongo", new JsonObject().put("embedded_port", port));
    TestApp.start(vertx, dataDir, overrides).onComplete(ctx.succeeding(a -> {
      api = new ApiClient(vertx, a.httpPort());
      mongo = MongoClient.create(vertx, new JsonObject()
          .put("connection_string", "mongodb://127.0.0.1:" + port)
          .put("db_name", a.config().mongo().database())
          .put("useObjectId", true));
      ctx.completeNow();
    }));
  }

  private static JsonObject oid(String hex) {
    return new JsonObject().put("$oid", hex);
  }

  private static JsonObject date(Instant t) {
    return new JsonObject().put("$date", t.toString());
  }

  /** n fresh ids, sorted, and the same ids shuffled for insertion. */
  private static List<String> ids(int n) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(new ObjectId().toHexString());
    }
    Collections.sort(ids);
    return ids;
  }

  private static Future<Void> insertAll(String collection, List<String> ids, Function<String, JsonObject> doc) {
    List<String> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, new Random(42));
    Future<Void> chain = Future.succeededFuture();
    for (String id : shuffled) {
      chain = chain.compose(v -> mongo.insert(collection, doc.apply(id)).mapEmpty());
    }
    return chain;
  }

  /** Follows nextCursor with {@code param} until it is null; returns the ids page by page. */
  private static Future<List<List<String>>> walk(String token, String base, String param, String start, int limit) {
    List<List<String>> pages = new ArrayList<>();
    return step(token, base, param, start, limit, pages).map(v -> pages);
  }

  private static Future<Void> step(String token, String base, String param, String cursor, int limit, List<List<String>> pages) {
    String sep = base.contains("?") ? "&" : "?";
    String url = base + sep + "limit=" + limit + (cursor == null ? "" : "&" + param + "=" + cursor);
    return api.get(url, token).compose(r -> {
      JsonObject page = expect(r, 200);
      pages.add(page.getJsonArray("items").stream().map(o -> ((JsonObject) o).getString("id")).toList());
      String next = page.getString("nextCursor");
      if (next == null || pages.size() > 50) {
        return Future.succeededFuture();
      }
      return step(token, base, param, next, limit, pages);
    });
  }

  @Test
  @DisplayName("Messages with identical createdAt page forwards and backwards with no duplicates and no gaps")
  void messagesWithEqualTimestamps(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    Instant same = Instant.parse("2026-01-01T10:00:00.000Z");
    List<String> ids = ids(23);
    List<List<String>> forward = new ArrayList<>();
    api.createSession(token, "equal timestamps")
        .compose(s -> insertAll("prompthistories", ids, id -> new JsonObject()
                .put("_id", oid(id)).put("userId", oid(userId)).put("chatSessionId", oid(s.getString("id")))
                .put("messageType", "user").put("content", "m-" + id).put("status", "completed")
                .put("createdAt", date(same)).put("updatedAt", date(same)))
            .map(v -> "/chats/" + s.getString("id") + "/messages"))
        .compose(base -> walk(token, base, "after", null, 5)
            .compose(pages -> {
              forward.addAll(pages);
              return walk(token, base, "before", ids.get(ids.size() - 1), 4);
            }))
        .onComplete(ctx.succeeding(backward -> ctx.verify(() -> {
          assertThat(forward).hasSize(5);
          assertThat(forward.stream().map(List::size).toList()).containsExactly(5, 5, 5, 5, 3);
          assertThat(forward.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(ids);
          List<String> back = new ArrayList<>();
          for (List<String> page : backward) {
            back.addAll(0, page);
          }
          assertThat(back).containsExactlyElementsOf(ids.subList(0, ids.size() - 1));
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Sessions with identical updatedAt page with no duplicates and no gaps, newest id first")
  void sessionsWithEqualTimestamps(Vertx vertx, VertxTestContext ctx) {
    String userId = TestTokens.newUserId();
    String token = TestTokens.token(vertx, userId);
    Instant same = Instant.parse("2026-01-02T08:00:00.000Z");
    List<String> ids = ids(9);
    insertAll("chatsessions", ids, id -> new JsonObject()
            .put("_id", oid(id)).put("userId", oid(userId)).put("title", "s-" + id)
            .put("createdAt", date(same)).put("updatedAt", date(same)).put("messageCount", 0))
        .compose(v -> walk(token, "/chats", "cursor", null, 4))
        .onComplete(ctx.succeeding(pages -> ctx.verify(() -> {
          List<String> expected = new ArrayList<>(ids);
          Collections.reverse(expected);
          assertThat(pages.stream().map(List::size).toList()).containsExactly(4, 4, 1);
          assertThat(pages.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(expected);
          ctx.completeNow();
        })));
  }
}
