package com.aichat.api;

import static com.aichat.api.ApiClient.expect;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.testing.TestApp;
import com.aichat.testing.TestTokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an export contains (issue 24 findings 8 and 10): hostile content cannot change the Markdown
 * file's structure, and the JSON export renders each message exactly as the REST listing does, without
 * the store's bookkeeping. The messages are written straight into the store, with every internal field
 * a real reply can carry.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Export content: no Markdown injection, no internal fields")
class ExportContentTest {

  static final String TITLE = "<img src=x onerror=alert(1)> ![t](https://evil.example/t.png) [x](javascript:alert(1)) **b** `c";
  static final String FORGED = """
      Hello.
      ## 99. Assistant · forged section
      <script>alert(1)</script>
      ```````
      a seven-backtick fence that would swallow the rest of the file
      ~~~
      """;
  static final String OPEN_FENCE = "````python\nprint('never closed')";
  static final Set<String> INTERNAL = Set.of("controlRequestIds", "versionStartedAt", "leaseOwner", "leaseUntil",
      "pendingSlot", "clientMessageKey", "usageLedger", "notBefore", "cancelRequested", "lastError", "chatSessionId",
      "_id");

  @TempDir static Path dataDir;
  static MongoClient direct;
  static ApiClient api;
  static String token;
  static String sessionId;

  @BeforeAll
  static void start(Vertx v) {
    int mongoPort = TestApp.freePort();
    TestApp app = TestApp.start(v, dataDir, ApiClient.apiOnly()
        .put("mongo", new JsonObject().put("embedded_port", mongoPort))).await();
    api = new ApiClient(v, app.httpPort());
    direct = MongoClient.create(v, new JsonObject()
        .put("connection_string", "mongodb://127.0.0.1:" + mongoPort).put("db_name", "chat"));
    String userId = TestTokens.newUserId();
    token = TestTokens.token(v, userId);
    sessionId = api.createSession(token, TITLE).await().getString("id");
    String q = new ObjectId().toHexString();
    String r = new ObjectId().toHexString();
    String e = new ObjectId().toHexString();
    JsonObject t0 = date("2026-01-01T00:00:00Z");
    insert(doc(q, userId, "user", FORGED, "completed", "2026-01-01T00:00:00Z")
        .put("clientMessageId", "c-1").put("clientMessageKey", userId + ":c-1")
        .put("version", 2).put("versionStartedAt", t0).put("controlRequestIds", new JsonArray().add("edit-1"))
        .put("versions", new JsonArray().add(new JsonObject().put("version", 1).put("content", OPEN_FENCE)
            .put("createdAt", "2026-01-01T00:00:00Z").put("replacedAt", "2026-01-01T00:00:00.500Z"))));
    insert(doc(r, userId, "ai_report", OPEN_FENCE, "completed", "2026-01-01T00:00:01Z")
        .put("replyTo", q).put("model", "claude-<b>model</b>").put("attempts", 3).put("attemptsBase", 2)
        .put("version", 2).put("versionStartedAt", t0)
        .put("controlRequestIds", new JsonArray().add("regen-1"))
        .put("leaseOwner", "worker-1").put("leaseUntil", t0).put("pendingSlot", userId + ":3")
        .put("usageLedger", true).put("notBefore", t0).put("lastError", "x")
        .put("versions", new JsonArray().add(new JsonObject().put("version", 1).put("content", FORGED)
            .put("messageType", "ai_report").put("status", "completed").put("attempts", 1)
            .put("createdAt", "2026-01-01T00:00:01Z").put("completedAt", "2026-01-01T00:00:02Z"))));
    insert(doc(e, userId, "ai_error", "", "failed", "2026-01-01T00:00:02Z").put("replyTo", q)
        .put("error", new JsonObject().put("code", "provider_error`<i>")
            .put("message", "bad\n## 100. forged\n<iframe src=//evil.example>")));
  }

  @AfterAll
  static void stop() {
    direct.close().await();
  }

  static JsonObject date(String iso) {
    return new JsonObject().put("$date", iso);
  }

  static JsonObject doc(String id, String userId, String type, String content, String status, String at) {
    return new JsonObject()
        .put("_id", new JsonObject().put("$oid", id))
        .put("userId", new JsonObject().put("$oid", userId))
        .put("chatSessionId", new JsonObject().put("$oid", sessionId))
        .put("messageType", type).put("content", content).put("status", status).put("attempts", 0)
        .put("createdAt", date(at)).put("updatedAt", date(at));
  }

  static void insert(JsonObject doc) {
    if (doc.getValue("replyTo") instanceof String reply) {
      doc.put("replyTo", new JsonObject().put("$oid", reply));
    }
    direct.insert("prompthistories", doc).await();
  }

  @Test
  @DisplayName("JSON: each exported message equals the REST listing's, with no controlRequestIds, versionStartedAt, lease, slot or key")
  void jsonRendersWhatRestRenders() {
    JsonObject export = expect(api.get("/chats/" + sessionId + "/export?format=json", token).await(), 200);
    JsonArray listed = expect(api.get("/chats/" + sessionId + "/messages?limit=100", token).await(), 200)
        .getJsonArray("items");
    JsonArray exported = export.getJsonArray("messages");
    assertThat(exported).hasSize(3);
    assertThat(exported).isEqualTo(listed);
    List<String> keys = new ArrayList<>();
    collectKeys(exported, keys);
    assertThat(keys).doesNotContainAnyElementsOf(INTERNAL);
    assertThat(exported.getJsonObject(1).getJsonArray("versions").getJsonObject(0).getString("content")).isEqualTo(FORGED);
  }

  private static void collectKeys(Object value, List<String> keys) {
    if (value instanceof JsonObject o) {
      for (String k : o.fieldNames()) {
        keys.add(k);
        collectKeys(o.getValue(k), keys);
      }
    } else if (value instanceof JsonArray a) {
      a.forEach(v -> collectKeys(v, keys));
    }
  }

  private static final Pattern FENCE_OPEN = Pattern.compile("^ {0,3}(`{3,}|~{3,})(.*)$");

  /** A closing fence: up to 3 spaces, at least as many of the opening fence's character, nothing else. */
  private static boolean closes(String line, String fence) {
    String s = line.strip();
    return s.length() >= fence.length() && s.chars().allMatch(c -> c == fence.charAt(0))
        && line.length() - line.stripLeading().length() <= 3;
  }

  @Test
  @DisplayName("Markdown: content is fenced verbatim, so it forges no section, carries no HTML and swallows nothing; titles, models and errors are escaped")
  void markdownCannotBeInjected() {
    io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> res =
        api.get("/chats/" + sessionId + "/export?format=markdown", token).await();
    assertThat(res.statusCode()).isEqualTo(200);
    String md = res.bodyAsString();
    // a CommonMark reading of the fences: what is outside them, and each fenced block's text
    List<String> outside = new ArrayList<>();
    List<String> blocks = new ArrayList<>();
    String fence = null;
    StringBuilder block = null;
    for (String line : md.split("\n", -1)) {
      if (fence == null) {
        Matcher m = FENCE_OPEN.matcher(line);
        if (m.matches() && !(m.group(1).startsWith("`") && m.group(2).contains("`"))) {
          fence = m.group(1);
          block = new StringBuilder();
        } else {
          outside.add(line);
        }
      } else if (closes(line, fence)) {
        blocks.add(block.toString());
        fence = null;
      } else {
        block.append(line).append('\n');
      }
    }
    assertThat(fence).as("the file ends outside any fence:\n%s", md).isNull();
    assertThat(blocks).contains(FORGED, OPEN_FENCE + "\n");
    List<String> sections = outside.stream().filter(l -> l.startsWith("## ")).toList();
    assertThat(sections).as("section headers, in\n%s", md).hasSize(3);
    assertThat(sections).allMatch(l -> l.matches("## [123]\\. .*"));
    assertThat(outside.stream().filter(l -> l.startsWith("# ")).toList()).hasSize(1);
    assertThat(outside).last().isEqualTo("");
    assertThat(outside.get(outside.size() - 2)).isEqualTo("_3 messages, 1 AI errors._");
    String text = String.join("\n", outside);
    // no raw HTML, and no link or image syntax that is not backslash-escaped, outside code spans
    // (whose text CommonMark shows literally)
    String prose = text.replaceAll("(?<![`\\\\])(`+)(?!`).*?(?<!`)\\1(?!`)", "");
    assertThat(prose).doesNotContain("<").doesNotContainPattern("(?<!\\\\)[`\\[]");
    assertThat(text).contains("# &lt;img src=x onerror=alert\\(1\\)&gt; \\!\\[t\\]\\(https://evil.example/t.png\\)",
        "claude-&lt;b&gt;model&lt;/b&gt;", "> **AI error** ``provider_error`<i>``: bad \\#\\# 100. forged &lt;iframe");
  }
}
