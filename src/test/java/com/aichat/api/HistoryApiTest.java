package com.aichat.api;

import static com.aichat.api.ApiClient.error;
import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.persistence.ChatStore;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.impl.MongoStores;
import com.aichat.embedded.index.PlanLog;
import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export, usage and search (issue 12) through real HTTP against the embedded store. Replies are
 * claimed and ended through the store's bus contract, as a worker does, so each case controls exactly
 * which replies completed, failed or are still pending.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("History endpoints: export, usage, search")
class HistoryApiTest {

  static final int MAX_RANGE_DAYS = 31;
  static final int MAX_QUERY = 20;

  @TempDir static Path dataDir;
  static ApiClient api;
  static ChatStore store;
  static MongoClient direct;
  static Vertx vertx;

  @BeforeAll
  static void start(Vertx v) {
    vertx = v;
    int mongoPort = TestApp.freePort();
    JsonObject overrides = ApiClient.apiOnly()
        .put("mongo", new JsonObject().put("embedded_port", mongoPort))
        .put("usage", new JsonObject().put("max_range_days", MAX_RANGE_DAYS))
        .put("search", new JsonObject().put("max_query_chars", MAX_QUERY))
        .put("quota", new JsonObject().put("max_pending_replies", 0))
        .put("rate_limit", new JsonObject().put("requests_per_minute", 100_000));
    TestApp app = TestApp.start(v, dataDir, overrides).await();
    api = new ApiClient(v, app.httpPort());
    store = ChatStore.client(v);
    direct = MongoClient.create(v, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
  }

  @AfterAll
  static void stop() {
    direct.close().await();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Claims and completes a reply as a worker does. */
  static void complete(Generations s, String replyId, String content, String model, Usage usage) {
    assertThat(s.claimGeneration(replyId, "w-test", 30_000).await().claimed()).isTrue();
    s.completeGeneration(replyId, "w-test", new Completion(content, model, usage, "end_turn", new ContextInfo(0, 0))).await();
  }

  static void fail(String replyId, String code, String message) {
    assertThat(store.claimGeneration(replyId, "w-test", 30_000).await().claimed()).isTrue();
    store.failGeneration(replyId, "w-test", new ErrorInfo(code, message)).await();
  }

  // ---- export ---------------------------------------------------------------------------------

  @Nested
  @DisplayName("GET /chats/:sessionId/export")
  class Export {

    final String user = TestTokens.newUserId();
    final String token = TestTokens.token(vertx, user);

    /** A session with a completed reply (with an older version), an ai_error and a pending reply. */
    String seed() {
      String sid = api.createSession(token, "Trip to Lisbon").await().getString("id");
      JsonObject p1 = api.send(token, sid, "Where should we eat in Lisbon?").await();
      JsonObject p2 = api.send(token, sid, "And museums?").await();
      api.send(token, sid, "Still waiting").await();
      String r1 = p1.getJsonObject("reply").getString("id");
      complete(store, r1, "Try Time Out Market.", "claude-x", new Usage(10, 5, 2, 1));
      fail(p2.getJsonObject("reply").getString("id"), "provider_error", "Claude is overloaded");
      direct.updateCollection("prompthistories", new JsonObject().put("_id", new JsonObject().put("$oid", r1)),
          new JsonObject().put("$set", new JsonObject().put("versions", new JsonArray().add(new JsonObject()
              .put("content", "An older answer")
              .put("model", "claude-old")
              .put("createdAt", new JsonObject().put("$date", "2026-11-01T10:00:00Z")))))).await();
      return sid;
    }

    @Test
    @DisplayName("JSON export is valid JSON with the session, every message in order (ai_error marked, versions kept, internals dropped), streamed as an attachment")
    void jsonExport() {
      String sid = seed();
      HttpResponse<Buffer> r = api.get("/chats/" + sid + "/export?format=json", token).await();
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      assertThat(r.getHeader("Transfer-Encoding")).isEqualTo("chunked");
      assertThat(r.getHeader("Content-Type")).startsWith("application/json");
      assertThat(r.getHeader("Content-Disposition")).isEqualTo("attachment; filename=\"chat-" + sid + ".json\"");
      JsonObject doc = new JsonObject(r.bodyAsString());
      assertThat(doc.getJsonObject("session").getString("title")).isEqualTo("Trip to Lisbon");
      assertThat(doc.getJsonObject("session").getString("createdAt")).isNotNull();
      assertThat(doc.getString("exportedAt")).isNotNull();
      JsonArray messages = doc.getJsonArray("messages");
      JsonArray listed = expect(api.get("/chats/" + sid + "/messages", token).await(), 200).getJsonArray("items");
      assertThat(messages).hasSize(6);
      for (int i = 0; i < 6; i++) {
        assertThat(messages.getJsonObject(i).getString("id")).isEqualTo(listed.getJsonObject(i).getString("id"));
        assertThat(messages.getJsonObject(i).getString("createdAt")).isNotNull();
      }
      JsonObject completed = messages.getJsonObject(1);
      assertThat(completed.getString("content")).isEqualTo("Try Time Out Market.");
      assertThat(completed.getJsonObject("usage").getLong("cacheReadTokens")).isEqualTo(2);
      JsonObject version = completed.getJsonArray("versions").getJsonObject(0);
      assertThat(version.getString("content")).isEqualTo("An older answer");
      assertThat(version.getString("createdAt")).isEqualTo("2026-11-01T10:00:00Z");
      JsonObject failed = messages.getJsonObject(3);
      assertThat(failed.getString("messageType")).isEqualTo("ai_error");
      assertThat(failed.getString("status")).isEqualTo("failed");
      assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("provider_error");
      assertThat(messages.getJsonObject(5).getString("status")).isEqualTo("pending");
      assertThat(doc.getJsonObject("counts")).isEqualTo(new JsonObject().put("messages", 6).put("aiErrors", 1));
      assertThat(r.bodyAsString()).doesNotContain("leaseOwner", "pendingSlot", "clientMessageKey", "usageLedger",
          "chatSessionId", "\"_id\"");
    }

    @Test
    @DisplayName("Markdown export has the title, one section per message, the ai_error called out and each version")
    void markdownExport() {
      String sid = seed();
      HttpResponse<Buffer> r = api.get("/chats/" + sid + "/export?format=markdown", token).await();
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.getHeader("Content-Type")).startsWith("text/markdown");
      assertThat(r.getHeader("Content-Disposition")).isEqualTo("attachment; filename=\"chat-" + sid + ".md\"");
      String md = r.bodyAsString();
      assertThat(md).startsWith("# Trip to Lisbon\n");
      assertThat(md).contains("- Session: `" + sid + "`", "## 1. User", "Where should we eat in Lisbon?",
          "## 2. Assistant", "claude-x", "Try Time Out Market.", "### Version 1 · 2026-11-01T10:00:00Z · claude-old",
          "An older answer", "## 4. ⚠️ AI error", "> **AI error** `provider_error`: Claude is overloaded",
          "## 6. Assistant", "pending", "_6 messages, 1 AI errors._");
      assertThat(md.indexOf("## 1. User")).isLessThan(md.indexOf("## 2. Assistant"));
    }

    @Test
    @DisplayName("an unknown format is 400 INVALID_EXPORT_FORMAT; no format means JSON; an unknown or malformed session is 404")
    void badInput() {
      String sid = api.createSession(token, "empty").await().getString("id");
      HttpResponse<Buffer> bad = api.get("/chats/" + sid + "/export?format=xml", token).await();
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(error(bad).getString("code")).isEqualTo("INVALID_EXPORT_FORMAT");
      HttpResponse<Buffer> twice = api.get("/chats/" + sid + "/export?format=json&format=markdown", token).await();
      assertThat(twice.statusCode()).isEqualTo(400);
      JsonObject empty = new JsonObject(api.get("/chats/" + sid + "/export", token).await().bodyAsString());
      assertThat(empty.getJsonArray("messages")).isEmpty();
      assertThat(empty.getJsonObject("counts").getLong("messages")).isZero();
      HttpResponse<Buffer> unknown = api.get("/chats/" + new org.bson.types.ObjectId().toHexString() + "/export", token).await();
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(error(unknown).getString("code")).isEqualTo("NOT_FOUND");
      assertThat(api.get("/chats/not-an-id/export", token).await().statusCode()).isEqualTo(404);
      assertThat(api.get("/chats/" + sid + "/export", null).await().statusCode()).isEqualTo(401);
    }
  }

  // ---- usage ----------------------------------------------------------------------------------

  @Nested
  @DisplayName("GET /usage")
  class UsageLedger {

    @Test
    @DisplayName("gives the caller's own tokens and replies by day and model, with totals; another user sees none of it")
    void byDayAndModel() {
      String user = TestTokens.newUserId();
      String token = TestTokens.token(vertx, user);
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      LocalDate yesterday = today.minusDays(1);
      String sid = api.createSession(token, "usage").await().getString("id");
      // Yesterday's reply, completed by the store on a clock one day behind.
      Generations behind = MongoStores.create(vertx, direct, Clock.offset(Clock.systemUTC(), Duration.ofDays(-1))).generations();
      complete(behind, api.send(token, sid, "y").await().getJsonObject("reply").getString("id"), "old", "m-1",
          new Usage(100, 10, 40, 5));
      complete(store, api.send(token, sid, "a").await().getJsonObject("reply").getString("id"), "a", "m-1",
          new Usage(7, 3, 1, 2));
      complete(store, api.send(token, sid, "b").await().getJsonObject("reply").getString("id"), "b", "m-1",
          new Usage(5, 2));
      complete(store, api.send(token, sid, "c").await().getJsonObject("reply").getString("id"), "c", "m-2",
          new Usage(11, 13, 0, 4));
      // A failed reply has no usage and counts no reply.
      fail(api.send(token, sid, "d").await().getJsonObject("reply").getString("id"), "provider_error", "x");

      JsonObject body = expect(api.get("/usage?from=" + yesterday + "&to=" + today, token).await(), 200);
      assertThat(body.getString("from")).isEqualTo(yesterday.toString());
      JsonArray days = body.getJsonArray("days");
      assertThat(days).hasSize(2);
      assertThat(days.getJsonObject(0).getString("day")).isEqualTo(yesterday.toString());
      assertThat(days.getJsonObject(0).getJsonArray("models")).containsExactly(new JsonObject()
          .put("model", "m-1").put("inputTokens", 100L).put("outputTokens", 10L).put("cacheReadTokens", 40L)
          .put("cacheWriteTokens", 5L).put("replies", 1L));
      JsonObject todayRow = days.getJsonObject(1);
      assertThat(todayRow.getString("day")).isEqualTo(today.toString());
      assertThat(todayRow.getJsonArray("models")).containsExactly(
          new JsonObject().put("model", "m-1").put("inputTokens", 12L).put("outputTokens", 5L)
              .put("cacheReadTokens", 1L).put("cacheWriteTokens", 2L).put("replies", 2L),
          new JsonObject().put("model", "m-2").put("inputTokens", 11L).put("outputTokens", 13L)
              .put("cacheReadTokens", 0L).put("cacheWriteTokens", 4L).put("replies", 1L));
      assertThat(todayRow.getJsonObject("totals")).isEqualTo(new JsonObject().put("inputTokens", 23L)
          .put("outputTokens", 18L).put("cacheReadTokens", 1L).put("cacheWriteTokens", 6L).put("replies", 3L));
      assertThat(body.getJsonObject("totals").getLong("replies")).isEqualTo(4);
      assertThat(body.getJsonObject("totals").getLong("inputTokens")).isEqualTo(123);

      JsonObject onlyToday = expect(api.get("/usage?from=" + today + "&to=" + today, token).await(), 200);
      assertThat(onlyToday.getJsonArray("days")).hasSize(1);
      String other = TestTokens.token(vertx, TestTokens.newUserId());
      JsonObject others = expect(api.get("/usage?from=" + yesterday + "&to=" + today, other).await(), 200);
      assertThat(others.getJsonArray("days")).isEmpty();
      assertThat(others.getJsonObject("totals").getLong("replies")).isZero();
    }

    @Test
    @DisplayName("missing, malformed or impossible dates, from after to, and a range past usage.max_range_days are 400 INVALID_DATE_RANGE")
    void badRanges() {
      String token = TestTokens.token(vertx, TestTokens.newUserId());
      LocalDate from = LocalDate.of(2026, 1, 1);
      List<String> bad = List.of("/usage", "/usage?from=2026-01-01", "/usage?to=2026-01-01",
          "/usage?from=2026-02-30&to=2026-03-01", "/usage?from=2026-13-01&to=2026-12-01",
          "/usage?from=20260101&to=2026-01-02", "/usage?from=&to=2026-01-02", "/usage?from=2026-1-1&to=2026-01-02",
          "/usage?from=2026-01-03&to=2026-01-02", "/usage?from=" + from + "&to=" + from.plusDays(MAX_RANGE_DAYS),
          "/usage?from=%24gt&to=2026-01-02");
      for (String path : bad) {
        HttpResponse<Buffer> r = api.get(path, token).await();
        assertThat(r.statusCode()).as(path).isEqualTo(400);
        assertThat(error(r).getString("code")).as(path).isEqualTo("INVALID_DATE_RANGE");
        assertThat(error(r).getJsonObject("details").getInteger("maxRangeDays")).isEqualTo(MAX_RANGE_DAYS);
      }
      // At the edge: exactly max_range_days days (both ends counted) is fine.
      expect(api.get("/usage?from=" + from + "&to=" + from.plusDays(MAX_RANGE_DAYS - 1), token).await(), 200);
      assertThat(api.get("/usage?from=2026-01-01&to=2026-01-01", null).await().statusCode()).isEqualTo(401);
    }
  }

  // ---- search ---------------------------------------------------------------------------------

  @Nested
  @DisplayName("GET /chats/search")
  class Search {

    final String user = TestTokens.newUserId();
    final String token = TestTokens.token(vertx, user);

    JsonObject search(String q, String extra) {
      return expect(api.get("/chats/search?q=" + enc(q) + extra, token).await(), 200);
    }

    @Test
    @DisplayName("finds the caller's sessions by title and messages by content, case-insensitively, with highlighted snippets; never another user's")
    void findsOwnSessionsAndMessages() {
      String other = TestTokens.token(vertx, TestTokens.newUserId());
      String theirs = api.createSession(other, "Lisbon for B").await().getString("id");
      api.send(other, theirs, "B's secret lisbon plans").await();
      String sid = api.createSession(token, "Trip to LISBON").await().getString("id");
      api.createSession(token, "Quarterly report").await();
      String long_ = "x".repeat(300) + " we land in lisbon at noon " + "y".repeat(300);
      api.send(token, sid, long_).await();
      api.send(token, sid, "nothing here").await();

      JsonObject page = search("Lisbon", "");
      JsonArray items = page.getJsonArray("items");
      assertThat(page.getString("nextCursor")).isNull();
      assertThat(items).hasSize(2);
      JsonObject session = items.getJsonObject(0);
      assertThat(session.getString("type")).isEqualTo("session");
      assertThat(session.getJsonObject("session").getString("id")).isEqualTo(sid);
      assertThat(session.getString("snippet")).isEqualTo("Trip to LISBON");
      assertThat(session.getJsonArray("highlights")).containsExactly(new JsonObject().put("start", 8).put("end", 14));
      JsonObject message = items.getJsonObject(1);
      assertThat(message.getString("type")).isEqualTo("message");
      assertThat(message.getJsonObject("message").getString("content")).isEqualTo(long_);
      String snippet = message.getString("snippet");
      assertThat(snippet).startsWith("…").endsWith("…").contains("we land in lisbon at noon").hasSizeLessThan(200);
      JsonObject hl = message.getJsonArray("highlights").getJsonObject(0);
      assertThat(snippet.substring(hl.getInteger("start"), hl.getInteger("end"))).isEqualTo("lisbon");
      assertThat(page.encode()).doesNotContain("secret", "for B");
      for (Object o : items) {
        JsonObject hit = (JsonObject) o;
        assertThat(hit.getJsonObject(hit.getString("type")).getString("userId")).isEqualTo(user);
      }
      assertThat(search("lIsBoN", "").getJsonArray("items")).hasSize(2);
    }

    @Test
    @DisplayName("pages with limit and cursor through sessions then messages, newest first, with no repeat and no gap")
    void paginates() {
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String sid = api.createSession(token, "Paging topic " + i).await().getString("id");
        for (int j = 0; j < 2; j++) {
          api.send(token, sid, "about the paging topic " + i + "/" + j).await();
        }
      }
      JsonArray all = search("PAGING TOPIC", "&limit=50").getJsonArray("items");
      all.forEach(o -> expected.add(((JsonObject) o).getJsonObject(((JsonObject) o).getString("type")).getString("id")));
      assertThat(expected).hasSize(9).doesNotHaveDuplicates();
      assertThat(all.getJsonObject(0).getString("type")).isEqualTo("session");
      assertThat(all.getJsonObject(3).getString("type")).isEqualTo("message");
      List<String> paged = new ArrayList<>();
      String cursor = null;
      int pages = 0;
      do {
        JsonObject page = search("paging topic", "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
        assertThat(page.getJsonArray("items").size()).isLessThanOrEqualTo(2);
        page.getJsonArray("items").forEach(o ->
            paged.add(((JsonObject) o).getJsonObject(((JsonObject) o).getString("type")).getString("id")));
        cursor = page.getString("nextCursor");
        pages++;
      } while (cursor != null && pages < 20);
      assertThat(paged).isEqualTo(expected);
    }

    @Test
    @DisplayName("regex metacharacters and operators in q are literal text: no injection, no pattern, no error")
    void metacharactersAreLiteral() {
      String sid = api.createSession(token, "regex").await().getString("id");
      api.send(token, sid, "the price is a.*b (really) [sic] $where {\"$ne\": 1} ^start\\end x|y").await();
      api.send(token, sid, "axxxb is not a literal match").await();
      assertThat(search("a.*b", "").getJsonArray("items")).hasSize(1);
      assertThat(search(".*", "").getJsonArray("items")).hasSize(1);
      for (String q : List.of("(", ")", "[sic]", "$where", "{\"$ne\"", "^start\\end", "|", "\\", "(really)")) {
        JsonArray items = search(q, "").getJsonArray("items");
        assertThat(items).as(q).hasSize(1);
        assertThat(items.getJsonObject(0).getJsonObject("message").getString("content")).startsWith("the price");
      }
      assertThat(search("(a+)+$", "").getJsonArray("items")).isEmpty();
      assertThat(search("?", "").getJsonArray("items")).isEmpty();
    }

    @Test
    @DisplayName("bad q, limit or cursor are 400 with a stable code; q at search.max_query_chars is fine; /chats/search is not taken for a session id")
    void badInput() {
      for (String path : List.of("/chats/search", "/chats/search?q=", "/chats/search?q=%20%20",
          "/chats/search?q=" + "a".repeat(MAX_QUERY + 1), "/chats/search?q=a%00b", "/chats/search?q=a%0Ab",
          "/chats/search?q=a&q=b")) {
        HttpResponse<Buffer> r = api.get(path, token).await();
        assertThat(r.statusCode()).as(path).isEqualTo(400);
        assertThat(error(r).getString("code")).as(path).isIn("INVALID_SEARCH_QUERY", "VALIDATION_FAILED");
        if (!path.endsWith("q=b")) {
          assertThat(error(r).getString("code")).as(path).isEqualTo("INVALID_SEARCH_QUERY");
          assertThat(error(r).getJsonObject("details").getInteger("maxChars")).isEqualTo(MAX_QUERY);
        }
      }
      expect(api.get("/chats/search?q=" + "a".repeat(MAX_QUERY), token).await(), 200);
      expect(api.get("/chats/search?q=" + enc("é".repeat(MAX_QUERY)), token).await(), 200);
      for (String path : List.of("/chats/search?q=a&limit=0", "/chats/search?q=a&limit=51",
          "/chats/search?q=a&limit=x", "/chats/search?q=a&cursor=not-a-cursor",
          "/chats/search?q=a&cursor=eyJwIjoieiJ9")) {
        HttpResponse<Buffer> r = api.get(path, token).await();
        assertThat(r.statusCode()).as(path).isEqualTo(400);
        assertThat(error(r).getString("code")).as(path).isEqualTo("VALIDATION_FAILED");
      }
      assertThat(api.get("/chats/search?q=a", null).await().statusCode()).isEqualTo(401);
    }

    @Test
    @DisplayName("reads only the caller's index range: both collections are read as IXSCANs on a userId index, never examining another user's documents")
    void indexBounded() {
      String other = TestTokens.token(vertx, TestTokens.newUserId());
      String theirs = api.createSession(other, "needle B").await().getString("id");
      for (int i = 0; i < 30; i++) {
        api.send(other, theirs, "needle " + i).await();
      }
      String sid = api.createSession(token, "needle A").await().getString("id");
      api.send(token, sid, "one needle").await();
      direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1).put("enable", true).put("reset", true)).await();
      String cursor = search("needle", "&limit=1").getString("nextCursor");
      search("needle", "&limit=1&cursor=" + cursor);
      JsonObject plans = direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1).put("enable", false)).await();
      Set<String> collections = new HashSet<>();
      for (Object o : plans.getJsonArray("shapes")) {
        JsonObject s = (JsonObject) o;
        String filter = s.getString("filter");
        if (filter.contains("userId")) { // the search's reads: the user's range in sort order, matched in the service
          collections.add(s.getString("ns").substring(s.getString("ns").indexOf('.') + 1));
          assertThat(s.getString("plan")).as(filter).startsWith("IXSCAN userId_");
          // The caller has 1 session and 2 messages; the other user 31 matching documents.
          assertThat(s.getLong("maxDocsExamined")).as(filter).isLessThanOrEqualTo(3);
        }
      }
      assertThat(collections).containsExactlyInAnyOrder("chatsessions", "prompthistories");
    }
  }
}
