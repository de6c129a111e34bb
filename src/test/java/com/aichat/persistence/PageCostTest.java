package com.aichat.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.embedded.index.PlanLog;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reads that run once per reply or per page walk an index from a position and stop at their
 * limit, so they cost about a page of documents however long the session, or however many sessions
 * the user has. Measured on the embedded server (H2) from its plan log: the most documents one query
 * examined. (A single {@code $or} position filter was answered unsorted and read every document past
 * the position: a reply in a 400-message session read the 400.)
 */
@DisplayName("Context loads, summary ranges and session pages read about a page however long the history")
class PageCostTest {

  static final int TURNS = 200; // 400 messages
  static final int SESSIONS = 120;
  static final int LIMIT = 10;

  @TempDir static Path dataDir;
  static Vertx vertx;
  static MongoClient direct;
  static ChatStore store;
  static String user;
  static String session;
  /** The session's messages, oldest first. */
  static List<ChatMessage> messages;

  @BeforeAll
  static void fill() {
    vertx = Vertx.vertx();
    direct = QueryShapeIndexTest.deployEmbedded(vertx, dataDir, "h2");
    store = ChatStore.client(vertx);
    user = new ObjectId().toHexString();
    session = store.createSession(user, null, "long").await().id();
    for (int i = 0; i < TURNS; i++) {
      store.sendMessage(user, session, "q" + i, null).await();
    }
    for (int i = 0; i < SESSIONS; i++) {
      store.createSession(user, null, "s" + i).await();
    }
    // finished replies, as the context reads them
    direct.updateCollectionWithOptions("prompthistories", new JsonObject().put("status", "pending"),
        new JsonObject().put("$set", new JsonObject().put("status", "completed")),
        new UpdateOptions().setMulti(true)).await();
    messages = store.loadHistoryRange(session, null, null, null, null, 2 * TURNS + 1, false).await();
    assertThat(messages).hasSize(2 * TURNS);
  }

  @AfterAll
  static void close() {
    direct.close().await();
    vertx.close().await();
  }

  static void record() {
    direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1).put("enable", true).put("reset", true))
        .await();
  }

  /** The most documents one query of {@code collection} examined since {@link #record}. */
  static long maxDocsExamined(String collection) {
    JsonObject answer = direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1)).await();
    direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1).put("enable", false)).await();
    long max = 0;
    for (Object o : answer.getJsonArray("shapes")) {
      JsonObject s = (JsonObject) o;
      if (s.getString("ns").endsWith("." + collection)) {
        assertThat(s.getString("plan")).as(s.encode()).startsWith("IXSCAN");
        max = Math.max(max, s.getLong("maxDocsExamined"));
      }
    }
    return max;
  }

  static List<String> ids(List<ChatMessage> ms) {
    return ms.stream().map(ChatMessage::id).toList();
  }

  @Test
  @DisplayName("a reply's context load near the end of a 400-message session returns the last turns, newest first, reading about the limit")
  void contextLoadReadsAboutTheLimit() {
    ChatMessage question = messages.get(messages.size() - 2); // the last user message; its reply follows
    record();
    List<ChatMessage> got = store.loadHistory(session, question.createdAt(), question.id(), LIMIT).await();
    long docs = maxDocsExamined("prompthistories");

    List<String> expected = new ArrayList<>(ids(messages.subList(messages.size() - 2 - LIMIT, messages.size() - 2)));
    java.util.Collections.reverse(expected);
    assertThat(ids(got)).isEqualTo(expected);
    assertThat(docs).as("documents one query examined").isLessThanOrEqualTo(LIMIT + 1);
  }

  @Test
  @DisplayName("a summary's range between two positions returns exactly the messages strictly between them, both ways")
  void rangeReadsAboutTheLimit() {
    ChatMessage after = messages.get(100);
    ChatMessage before = messages.get(300);
    List<ChatMessage> newest = store.loadHistoryRange(session, after.createdAt(), after.id(), before.createdAt(),
        before.id(), LIMIT, true).await();
    List<ChatMessage> oldest = store.loadHistoryRange(session, after.createdAt(), after.id(), before.createdAt(),
        before.id(), LIMIT, false).await();
    List<ChatMessage> all = store.loadHistoryRange(session, after.createdAt(), after.id(), before.createdAt(),
        before.id(), 1000, false).await();

    List<String> expectedNewest = new ArrayList<>(ids(messages.subList(300 - LIMIT, 300)));
    java.util.Collections.reverse(expectedNewest);
    assertThat(ids(newest)).isEqualTo(expectedNewest);
    assertThat(ids(oldest)).isEqualTo(ids(messages.subList(101, 101 + LIMIT)));
    assertThat(ids(all)).as("the far bound is exclusive").isEqualTo(ids(messages.subList(101, 300)));
  }

  @Test
  @DisplayName("the limited range walks alone never read the whole range")
  void limitedRangeStopsAtItsLimit() {
    ChatMessage after = messages.get(10);
    ChatMessage before = messages.get(390);
    record();
    store.loadHistoryRange(session, after.createdAt(), after.id(), before.createdAt(), before.id(), LIMIT, true).await();
    store.loadHistoryRange(session, after.createdAt(), after.id(), before.createdAt(), before.id(), LIMIT, false).await();
    assertThat(maxDocsExamined("prompthistories")).isLessThanOrEqualTo(LIMIT + 1);
  }

  @Test
  @DisplayName("paging through 121 sessions five at a time visits each once, newest first, each page reading about a page")
  void sessionPagesReadAboutAPage() {
    record();
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Page<ChatSession> page = store.listSessions(user, null, 5, cursor).await();
      page.items().forEach(s -> seen.add(s.id()));
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null && pages < 100);
    long docs = maxDocsExamined("chatsessions");

    // every session once, in updatedAt-then-id order, newest first
    assertThat(seen).hasSize(SESSIONS + 1).doesNotHaveDuplicates();
    List<ChatSession> first = store.listSessions(user, null, 100, null).await().items();
    assertThat(seen.subList(0, 100)).isEqualTo(first.stream().map(ChatSession::id).toList());
    assertThat(docs).as("documents one page query examined").isLessThanOrEqualTo(6);
  }
}
