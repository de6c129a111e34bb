package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import static com.aichat.persistence.PersistenceTestSupport.errorOf;
import static com.aichat.persistence.PersistenceTestSupport.failureOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionEvent;
import com.aichat.persistence.Generations.ClaimResult;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Conversations.SendLimits;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link ChatStore} deployment must show, exercised as production does: the
 * {@link PersistenceVerticle} is deployed and called through {@link ChatStore} over the event
 * bus. Subclasses choose the database (embedded memory, embedded H2, real MongoDB). A second,
 * direct client is used only to seed data that the API cannot produce (identical timestamps, other
 * collections) and to inspect the stored BSON types.
 */
@ExtendWith(VertxExtension.class)
abstract class ChatStoreContractTest {

  /** Where the deployed store keeps its data, for direct access by the test. */
  record Target(String connectionString, String database) {}

  protected Vertx vertx;
  protected ChatStore store;
  protected MongoClient direct;
  protected final String userA = new ObjectId().toHexString();
  protected final String userB = new ObjectId().toHexString();

  /** Deploys the persistence verticle under test. */
  protected abstract Future<Target> deployStore(Vertx vertx, Path dataDir);

  @BeforeEach
  void deploy(Vertx vertx, VertxTestContext ctx, @TempDir Path dataDir) {
    this.vertx = vertx;
    deployStore(vertx, dataDir)
        .onComplete(ctx.succeeding(target -> {
          store = ChatStore.client(vertx);
          direct = MongoClient.create(vertx, new JsonObject()
              .put("connection_string", target.connectionString())
              .put("db_name", target.database()));
          ctx.completeNow();
        }));
  }

  @AfterEach
  void closeDirect(VertxTestContext ctx) {
    (direct == null ? Future.succeededFuture() : direct.close()).onComplete(x -> ctx.completeNow());
  }

  // ---- sessions ---------------------------------------------------------------------------------

  @Test
  @DisplayName("A created session can be read back with its fields, and is stored with ObjectIds and dates")
  void createAndGetSession(VertxTestContext ctx) {
    String team = new ObjectId().toHexString();
    store.createSession(userA, team, "Quarterly report")
        .compose(created -> store.getSession(userA, created.id()).map(read -> List.of(created, read)))
        .compose(pair -> direct
            .findOne("chatsessions", new JsonObject().put("_id", new JsonObject().put("$oid", pair.get(0).id())), null)
            .map(raw -> {
              ctx.verify(() -> {
                ChatSession created = pair.get(0);
                assertThat(pair.get(1)).isEqualTo(created);
                assertThat(created.userId()).isEqualTo(userA);
                assertThat(created.teamId()).isEqualTo(team);
                assertThat(created.title()).isEqualTo("Quarterly report");
                assertThat(created.messageCount()).isZero();
                assertThat(created.createdAt()).isEqualTo(created.updatedAt());
                assertThat(raw.getJsonObject("userId").getString("$oid")).isEqualTo(userA);
                assertThat(raw.getJsonObject("teamId").getString("$oid")).isEqualTo(team);
                assertThat(raw.getJsonObject("createdAt").getString("$date")).isNotNull();
              });
              return raw;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Sessions list by most recent activity first, and renaming moves a session to the top")
  void listOrderAndRename(VertxTestContext ctx) {
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (int i = 0; i < 3; i++) {
      int n = i;
      chain = chain.compose(v -> pause(5)).compose(v -> store.createSession(userA, null, "s" + n))
          .map(s -> { ids.add(s.id()); return null; });
    }
    chain
        .compose(v -> store.listSessions(userA, null, 10, null))
        .map(page -> {
          ctx.verify(() -> assertThat(page.items()).extracting(ChatSession::id)
              .containsExactly(ids.get(2), ids.get(1), ids.get(0)));
          return page;
        })
        .compose(p -> pause(5))
        .compose(v -> store.renameSession(userA, ids.get(0), "renamed"))
        .compose(renamed -> store.listSessions(userA, null, 10, null).map(page -> {
          ctx.verify(() -> {
            assertThat(renamed.title()).isEqualTo("renamed");
            assertThat(page.items()).extracting(ChatSession::id)
                .containsExactly(ids.get(0), ids.get(2), ids.get(1));
            assertThat(page.nextCursor()).isNull();
          });
          return page;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Session pages with identical timestamps have no duplicates and no gaps, and teamId filters")
  void sessionPaginationWithIdenticalTimestamps(VertxTestContext ctx) {
    Instant same = Instant.parse("2026-01-01T00:00:00Z");
    String team = new ObjectId().toHexString();
    List<String> expected = new ArrayList<>();
    List<Future<?>> inserts = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      String id = new ObjectId().toHexString();
      expected.add(id);
      Instant at = i < 20 ? same : same.minusSeconds(i);
      JsonObject doc = new JsonObject()
          .put("_id", oid(id)).put("userId", oid(userA)).put("title", "t" + i)
          .put("createdAt", date(at)).put("updatedAt", date(at)).put("messageCount", 0);
      if (i % 2 == 0) {
        doc.put("teamId", oid(team));
      }
      inserts.add(direct.insert("chatsessions", doc));
    }
    // expected order: identical timestamps by _id desc, then the older ones
    List<String> order = new ArrayList<>(expected.subList(0, 20));
    order.sort(Comparator.reverseOrder());
    order.addAll(expected.subList(20, 23));
    Future.all(inserts)
        .compose(v -> allSessions(userA, null, 4))
        .compose(all -> allSessions(userA, team, 3).map(teamOnly -> {
          ctx.verify(() -> {
            assertThat(all).extracting(ChatSession::id).containsExactlyElementsOf(order);
            assertThat(teamOnly).extracting(ChatSession::id)
                .containsExactlyElementsOf(order.stream()
                    .filter(id -> expected.indexOf(id) % 2 == 0).toList());
            assertThat(teamOnly).allSatisfy(s -> assertThat(s.teamId()).isEqualTo(team));
          });
          return null;
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("An unparsable cursor is a VALIDATION_FAILED, and page limits are capped at 100")
  void badCursor(VertxTestContext ctx) {
    store.createSession(userA, null, "x")
        .compose(s -> failureOf(store.listSessions(userA, null, 10, "not-a-cursor"))
            .compose(code1 -> failureOf(store.listMessages(userA, s.id(), "%%%", null, 10))
                .compose(code2 -> failureOf(store.listMessages(userA, s.id(), new ObjectId().toHexString(), null, 10))
                    .map(code3 -> List.of(code1, code2, code3)))))
        .onComplete(ctx.succeeding(codes -> ctx.verify(() -> {
          assertThat(codes).containsOnly(ErrorCode.VALIDATION_FAILED);
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("Deleting a session removes it and all of its messages; afterwards it is NOT_FOUND")
  void deleteSession(VertxTestContext ctx) {
    store.createSession(userA, null, "doomed")
        .compose(s -> store.sendMessage(userA, s.id(), "hello", null).map(s))
        .compose(s -> store.deleteSession(userA, s.id()).map(s))
        .compose(s -> failureOf(store.getSession(userA, s.id()))
            .compose(c1 -> failureOf(store.listMessages(userA, s.id(), null, null, 10))
                .compose(c2 -> direct.count("prompthistories",
                        new JsonObject().put("chatSessionId", oid(s.id())))
                    .map(left -> {
                      ctx.verify(() -> {
                        assertThat(c1).isEqualTo(ErrorCode.NOT_FOUND);
                        assertThat(c2).isEqualTo(ErrorCode.NOT_FOUND);
                        assertThat(left).isZero();
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  // ---- messages ---------------------------------------------------------------------------------

  @Test
  @DisplayName("A send stores the user message and a pending ai_report placeholder after it, and bumps the session")
  void sendMessage(VertxTestContext ctx) {
    store.createSession(userA, null, "chat")
        .compose(s -> store.sendMessage(userA, s.id(), "What is up?", null)
            .compose(r -> store.getSession(userA, s.id())
                .compose(after -> store.listMessages(userA, s.id(), null, null, 10).map(page -> {
                  ctx.verify(() -> {
                    assertThat(r.created()).isTrue();
                    ChatMessage u = r.userMessage();
                    ChatMessage a = r.reply();
                    assertThat(u.messageType()).isEqualTo(MessageType.USER);
                    assertThat(u.status()).isEqualTo(MessageStatus.COMPLETED);
                    assertThat(u.content()).isEqualTo("What is up?");
                    assertThat(a.messageType()).isEqualTo(MessageType.AI_REPORT);
                    assertThat(a.status()).isEqualTo(MessageStatus.PENDING);
                    assertThat(a.replyTo()).isEqualTo(u.id());
                    assertThat(a.content()).isEmpty();
                    assertThat(new ObjectId(a.id())).isGreaterThan(new ObjectId(u.id()));
                    assertThat(page.items()).extracting(ChatMessage::id).containsExactly(u.id(), a.id());
                    assertThat(after.messageCount()).isEqualTo(2);
                    assertThat(after.lastMessageAt()).isEqualTo(u.createdAt());
                    assertThat(after.updatedAt()).isAfterOrEqualTo(s.updatedAt());
                  });
                  return null;
                }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Messages are stored with the seed's field names, ObjectIds and dates, and no lease fields when pending")
  void messagesUseRealBsonTypes(VertxTestContext ctx) {
    pendingReply()
        .compose(r -> direct.findOne("prompthistories", new JsonObject().put("_id", oid(r.reply().id())), null)
            .map(raw -> {
              ctx.verify(() -> {
                assertThat(raw.getJsonObject("userId").getString("$oid")).isEqualTo(userA);
                assertThat(raw.getJsonObject("chatSessionId").getString("$oid")).isEqualTo(r.reply().sessionId());
                assertThat(raw.getJsonObject("replyTo").getString("$oid")).isEqualTo(r.userMessage().id());
                assertThat(Instant.parse(raw.getJsonObject("createdAt").getString("$date")))
                    .isEqualTo(r.reply().createdAt());
                assertThat(raw.getString("messageType")).isEqualTo("ai_report");
                assertThat(raw.getString("status")).isEqualTo("pending");
                assertThat(raw.containsKey("leaseOwner")).isFalse();
              });
              return raw;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Sending twice with one clientMessageId (also concurrently) stores one pair and returns it with created=false")
  void idempotentSend(VertxTestContext ctx) {
    store.createSession(userA, null, "chat")
        .compose(s -> store.sendMessage(userA, s.id(), "once", "cm-1")
            .compose(first -> store.sendMessage(userA, s.id(), "once", "cm-1")
                .compose(second -> Future.all(IntStream.range(0, 6)
                        .mapToObj(i -> store.sendMessage(userA, s.id(), "once", "cm-2")).toList())
                    .compose(concurrent -> store.sendMessage(userA, s.id(), "plain", null)
                        .compose(x -> store.sendMessage(userA, s.id(), "plain", null))
                        .compose(x -> store.listMessages(userA, s.id(), null, null, 100))
                        .map(page -> {
                          ctx.verify(() -> {
                            assertThat(first.created()).isTrue();
                            assertThat(second.created()).isFalse();
                            assertThat(second.userMessage()).isEqualTo(first.userMessage());
                            assertThat(second.reply().id()).isEqualTo(first.reply().id());
                            assertThat(first.userMessage().clientMessageId()).isEqualTo("cm-1");
                            List<SendResult> all = concurrent.<SendResult>list();
                            assertThat(all).filteredOn(SendResult::created).hasSize(1);
                            assertThat(all).extracting(r -> r.userMessage().id()).containsOnly(
                                all.get(0).userMessage().id());
                            // cm-1 pair + cm-2 pair + two plain sends
                            assertThat(page.items()).hasSize(8);
                          });
                          return null;
                        })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Message pages with identical timestamps have no duplicates and no gaps, forwards and backwards")
  void messagePaginationWithIdenticalTimestamps(VertxTestContext ctx) {
    Instant same = Instant.parse("2026-02-02T10:00:00Z");
    store.createSession(userA, null, "paged")
        .compose(s -> {
          List<String> ids = new ArrayList<>();
          List<Future<?>> inserts = new ArrayList<>();
          for (int i = 0; i < 17; i++) {
            String id = new ObjectId().toHexString();
            ids.add(id);
            inserts.add(direct.insert("prompthistories", new JsonObject()
                .put("_id", oid(id)).put("userId", oid(userA)).put("chatSessionId", oid(s.id()))
                .put("messageType", "user").put("content", "m" + i).put("status", "completed")
                .put("attempts", 0).put("createdAt", date(same)).put("updatedAt", date(same))));
          }
          List<String> sorted = ids.stream().sorted().toList();
          return Future.all(inserts)
              .compose(v -> forwardPages(s.id(), null, 5, new ArrayList<>()))
              .compose(fwd -> backwardPages(s.id(), sorted.get(16), 4, new ArrayList<>()).map(back -> {
                ctx.verify(() -> {
                  assertThat(fwd).containsExactlyElementsOf(sorted);
                  assertThat(back).containsExactlyElementsOf(sorted.subList(0, 16));
                });
                return null;
              }))
              .compose(v -> store.listMessages(userA, s.id(), sorted.get(10), null, 3).map(page -> {
                ctx.verify(() -> assertThat(page.items()).extracting(ChatMessage::id)
                    .containsExactlyElementsOf(sorted.subList(11, 14)));
                return null;
              }));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("getMessage returns one message of the session; countUserMessagesSince counts only user messages")
  void getMessageAndCount(VertxTestContext ctx) {
    Instant before = Instant.now().minusSeconds(1);
    store.createSession(userA, null, "c")
        .compose(s -> store.sendMessage(userA, s.id(), "a", null)
            .compose(r -> store.sendMessage(userA, s.id(), "b", null).map(r))
            .compose(r -> store.getMessage(userA, s.id(), r.reply().id())
                .compose(m -> store.countUserMessagesSince(userA, before)
                    .compose(n -> store.countUserMessagesSince(userA, Instant.now().plusSeconds(60))
                        .compose(none -> store.countUserMessagesSince(userB, before).map(other -> {
                          ctx.verify(() -> {
                            assertThat(m).isEqualTo(r.reply());
                            assertThat(n).isEqualTo(2);
                            assertThat(none).isZero();
                            assertThat(other).isZero();
                          });
                          return null;
                        }))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("lookupUserField reads a dotted field of the user's document in another collection")
  void lookupUserField(VertxTestContext ctx) {
    direct.insert("users", new JsonObject().put("_id", oid(userA))
            .put("subscription", new JsonObject().put("status", "active")))
        .compose(x -> store.lookupUserField("users", "_id", userA, "subscription.status"))
        .compose(found -> store.lookupUserField("users", "_id", userB, "subscription.status")
            .compose(missing -> failureOf(store.lookupUserField("users", "_id", userA, "$where"))
                .map(bad -> {
                  ctx.verify(() -> {
                    assertThat(found.getBoolean("found")).isTrue();
                    assertThat(found.getValue("value")).isEqualTo("active");
                    assertThat(missing.getBoolean("found")).isFalse();
                    assertThat(bad).isEqualTo(ErrorCode.VALIDATION_FAILED);
                  });
                  return null;
                })))
        .onComplete(ctx.succeedingThenComplete());
  }

  // ---- send limits ------------------------------------------------------------------------------

  private static final String TODAY = "2026-12-02";

  private static SendLimits quota(long daily) {
    return new SendLimits(daily, TODAY, 35, 0);
  }

  private static SendLimits pendingCap(int cap) {
    return new SendLimits(-1, null, 35, cap);
  }

  /** Runs {@code n} sends at once; returns the results and failure codes, in no particular order. */
  private List<Object> concurrently(int n, java.util.function.IntFunction<Future<SendResult>> send) {
    List<Future<Object>> all = IntStream.range(0, n)
        .mapToObj(i -> send.apply(i).<Object>map(r -> r).recover(err -> Future.succeededFuture(ErrorCode.fromThrowable(err))))
        .toList();
    return Future.all(all).await().list();
  }

  @Test
  @DisplayName("Daily quota: of 20 concurrent sends against a limit of 2 exactly 2 are stored; deleting the session gives nothing back; a new day counts afresh")
  void dailyQuotaIsAtomicAndSurvivesDeletes() {
    String session = store.createSession(userA, null, "quota").await().id();
    List<Object> results = concurrently(20, i -> store.sendMessage(userA, session, "m" + i, null, quota(2)));
    assertThat(results).filteredOn(SendResult.class::isInstance).hasSize(2);
    assertThat(results).filteredOn(r -> r == ErrorCode.QUOTA_EXCEEDED).hasSize(18);
    assertThat(store.listMessages(userA, session, null, null, 100).await().items()).hasSize(4);

    store.deleteSession(userA, session).await();
    String again = store.createSession(userA, null, "again").await().id();
    assertThat(failureOf(store.sendMessage(userA, again, "more", null, quota(2))).await())
        .isEqualTo(ErrorCode.QUOTA_EXCEEDED);
    assertThat(store.listMessages(userA, again, null, null, 100).await().items()).isEmpty();
    // another user and another day have their own counters; a limit of 0 refuses
    assertThat(store.sendMessage(userB, store.createSession(userB, null, "b").await().id(), "b", null, quota(2))
        .await().created()).isTrue();
    assertThat(store.sendMessage(userA, again, "tomorrow", null, new SendLimits(2, "2026-12-03", 35, 0))
        .await().created()).isTrue();
    assertThat(failureOf(store.sendMessage(userA, again, "none", null, new SendLimits(0, "2026-12-03", 35, 0))).await())
        .isEqualTo(ErrorCode.QUOTA_EXCEEDED);

    JsonObject counter = direct.findOne("usage_counters", new JsonObject().put("_id", userA + ":" + TODAY), null).await();
    assertThat(counter.getLong("messages")).isEqualTo(2);
    assertThat(counter.getJsonObject("userId").getString("$oid")).isEqualTo(userA);
    assertThat(Instant.parse(counter.getJsonObject("day").getString("$date"))).isEqualTo(Instant.parse(TODAY + "T00:00:00Z"));
    assertThat(Instant.parse(counter.getJsonObject("expiresAt").getString("$date")))
        .isEqualTo(Instant.parse("2027-01-07T00:00:00Z"));
  }

  @Test
  @DisplayName("Daily quota: a retry (same clientMessageId), also ten at once, counts once and is answered past the limit")
  void retriesCountOnce() {
    String session = store.createSession(userA, null, "retry").await().id();
    List<Object> results = concurrently(10, i -> store.sendMessage(userA, session, "same", "c-1", quota(2)));
    assertThat(results).allSatisfy(r -> assertThat(r).isInstanceOf(SendResult.class));
    assertThat(results).filteredOn(r -> ((SendResult) r).created()).hasSize(1);
    assertThat(results.stream().map(r -> ((SendResult) r).reply().id()).distinct()).hasSize(1);
    JsonObject counter = direct.findOne("usage_counters", new JsonObject().put("_id", userA + ":" + TODAY), null).await();
    assertThat(counter.getLong("messages")).isEqualTo(1);

    assertThat(store.sendMessage(userA, session, "second", "c-2", quota(2)).await().created()).isTrue();
    assertThat(failureOf(store.sendMessage(userA, session, "third", "c-3", quota(2))).await())
        .isEqualTo(ErrorCode.QUOTA_EXCEEDED);
    SendResult replay = store.sendMessage(userA, session, "same", "c-1", quota(2)).await();
    assertThat(replay.created()).isFalse();
    assertThat(store.listMessages(userA, session, null, null, 100).await().items()).hasSize(4);
  }

  @Test
  @DisplayName("Pending cap: of 5 concurrent sends against a cap of 2 exactly 2 are stored; each reply that ends (cancel, complete, fail, session delete) frees its slot")
  void pendingCapHoldsUnderConcurrencyAndFreesOnEveryEnd() {
    String session = store.createSession(userA, null, "pending").await().id();
    List<Object> results = concurrently(5, i -> store.sendMessage(userA, session, "m" + i, null, pendingCap(2)));
    List<SendResult> stored = results.stream().filter(SendResult.class::isInstance).map(SendResult.class::cast).toList();
    assertThat(stored).hasSize(2);
    assertThat(results).filteredOn(r -> r == ErrorCode.TOO_MANY_PENDING).hasSize(3);
    assertThat(store.listMessages(userA, session, null, null, 100).await().items()).hasSize(4);
    // the cap is the user's, across sessions; another user is not affected
    String other = store.createSession(userA, null, "other").await().id();
    assertThat(failureOf(store.sendMessage(userA, other, "x", null, pendingCap(2))).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);
    assertThat(store.sendMessage(userB, store.createSession(userB, null, "b").await().id(), "b", null, pendingCap(2))
        .await().created()).isTrue();

    // cancel of a pending reply
    store.requestCancel(userA, session, stored.get(0).reply().id()).await();
    SendResult third = store.sendMessage(userA, other, "after cancel", null, pendingCap(2)).await();
    assertThat(failureOf(store.sendMessage(userA, other, "x", null, pendingCap(2))).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);
    // completion; a retry release keeps the slot
    String r1 = stored.get(1).reply().id();
    store.claimGeneration(r1, "w", 30_000).await();
    store.releaseForRetry(r1, "w", null, new ErrorInfo("x", "y")).await();
    assertThat(failureOf(store.sendMessage(userA, other, "x", null, pendingCap(2))).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);
    store.claimGeneration(r1, "w", 30_000).await();
    store.completeGeneration(r1, "w", new Completion("done", "m", null, "end_turn", null)).await();
    SendResult fourth = store.sendMessage(userA, other, "after complete", null, pendingCap(2)).await();
    // failure
    store.claimGeneration(third.reply().id(), "w", 30_000).await();
    store.failGeneration(third.reply().id(), "w", new ErrorInfo("X", "failed")).await();
    store.sendMessage(userA, session, "after fail", null, pendingCap(2)).await();
    // session delete (fourth is in "other")
    store.deleteSession(userA, other).await();
    store.sendMessage(userA, session, "after delete", null, pendingCap(2)).await();
    assertThat(failureOf(store.sendMessage(userA, session, "x", null, pendingCap(2))).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);

    JsonObject done = direct.findOne("prompthistories", new JsonObject().put("_id", oid(r1)), null).await();
    assertThat(done.containsKey("pendingSlot")).as("a final reply holds no slot").isFalse();
    assertThat(fourth.reply().status()).isEqualTo(MessageStatus.PENDING);
  }

  @Test
  @DisplayName("A send refused by the pending cap takes no unit of the daily quota")
  void pendingRefusalKeepsQuota() {
    String session = store.createSession(userA, null, "both").await().id();
    SendLimits both = new SendLimits(2, TODAY, 35, 1);
    SendResult first = store.sendMessage(userA, session, "one", null, both).await();
    assertThat(failureOf(store.sendMessage(userA, session, "two", null, both)).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);
    store.requestCancel(userA, session, first.reply().id()).await();
    assertThat(store.sendMessage(userA, session, "two", null, both).await().created()).isTrue();
    JsonObject counter = direct.findOne("usage_counters", new JsonObject().put("_id", userA + ":" + TODAY), null).await();
    assertThat(counter.getLong("messages")).isEqualTo(2);
  }

  // ---- generation -------------------------------------------------------------------------------

  @Test
  @DisplayName("Of 20 concurrent claims of one pending reply exactly one wins")
  void claimExclusivity(VertxTestContext ctx) {
    pendingReply()
        .compose(r -> Future.all(IntStream.range(0, 20)
                .mapToObj(i -> store.claimGeneration(r.reply().id(), "worker-" + i, 30_000)).toList())
            .map(all -> {
              List<ClaimResult> results = all.list();
              ctx.verify(() -> {
                assertThat(results).filteredOn(ClaimResult::claimed).hasSize(1);
                ClaimResult winner = results.stream().filter(ClaimResult::claimed).findFirst().orElseThrow();
                assertThat(winner.message().status()).isEqualTo(MessageStatus.PROCESSING);
                assertThat(winner.message().attempts()).isEqualTo(1);
                assertThat(results).filteredOn(c -> !c.claimed())
                    .allSatisfy(c -> assertThat(c.message().status()).isEqualTo(MessageStatus.PROCESSING));
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A claim of a reply whose session was deleted under it (a send racing the delete) drops it and the session's leftovers")
  void claimDropsReplyOfDeletedSession() {
    SendResult pair = pendingReply().await();
    // What a delete racing the send leaves: the delete removed the messages, the send then stored its
    // pair, the delete then removed the session.
    direct.removeDocument("chatsessions", new JsonObject().put("_id", oid(pair.reply().sessionId()))).await();
    ClaimResult claim = store.claimGeneration(pair.reply().id(), "w", 30_000).await();
    assertThat(claim.claimed()).isFalse();
    assertThat(claim.message()).isNull();
    assertThat(direct.count("prompthistories", new JsonObject().put("chatSessionId", oid(pair.reply().sessionId())))
        .await()).isZero();
    assertThat(store.claimGeneration(pair.reply().id(), "w2", 30_000).await().claimed()).isFalse();
    // a reply whose session is still there is claimed as before
    assertThat(store.claimGeneration(pendingReply().await().reply().id(), "w", 30_000).await().claimed()).isTrue();
  }

  @Test
  @DisplayName("An expired lease can be claimed again, and the stale owner can no longer write")
  void expiredLeaseReclaim(VertxTestContext ctx) {
    Completion done = new Completion("final text", "m-1", new Usage(10, 20), "end_turn", new ContextInfo(3, 1));
    pendingReply()
        .compose(r -> store.claimGeneration(r.reply().id(), "old", 1)
            .compose(c -> pause(30))
            .compose(v -> store.claimGeneration(r.reply().id(), "new", 30_000))
            .compose(second -> failureOf(store.completeGeneration(r.reply().id(), "old", done))
                .compose(stale -> store.checkpointGeneration(r.reply().id(), "old", "x", 1000)
                    .compose(cp -> store.completeGeneration(r.reply().id(), "new", done)
                        .map(m -> {
                          ctx.verify(() -> {
                            assertThat(second.claimed()).isTrue();
                            assertThat(second.message().attempts()).isEqualTo(2);
                            assertThat(stale).isEqualTo(ErrorCode.CONFLICT);
                            assertThat(cp.leaseHeld()).isFalse();
                            assertThat(m.status()).isEqualTo(MessageStatus.COMPLETED);
                            assertThat(m.content()).isEqualTo("final text");
                            assertThat(m.model()).isEqualTo("m-1");
                            assertThat(m.usage()).isEqualTo(new Usage(10, 20));
                            assertThat(m.stopReason()).isEqualTo("end_turn");
                            assertThat(m.context()).isEqualTo(new ContextInfo(3, 1));
                          });
                          return null;
                        })))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Ending the leases of a lost node's workers frees exactly their replies, once, and fences the old owner out")
  void expireLeasesOfLostNode() {
    String lost = pendingReply().await().reply().id();
    String kept = pendingReply().await().reply().id();
    store.claimGeneration(lost, "node-a/w1", 60_000).await();
    store.claimGeneration(kept, "node-b/w2", 60_000).await();

    assertThat(store.expireLeasesOf("node-a/").await()).containsExactly(lost);
    assertThat(store.expireLeasesOf("node-a/").await()).as("a second caller gets nothing").isEmpty();
    assertThat(store.findStrandedReplies(Instant.now(), Instant.now().minusSeconds(60), 10).await())
        .containsExactly(lost);

    ClaimResult taken = store.claimGeneration(lost, "node-b/w3", 60_000).await();
    assertThat(taken.claimed()).isTrue();
    assertThat(taken.message().attempts()).isEqualTo(2);
    assertThat(store.claimGeneration(kept, "node-b/w3", 60_000).await().claimed()).isFalse();
    // the old owner, had it only been paused, is refused on every write
    assertThat(store.checkpointGeneration(lost, "node-a/w1", "late text", 60_000).await().leaseHeld()).isFalse();
    assertThat(failureOf(store.completeGeneration(lost, "node-a/w1",
        new Completion("late text", "m", null, "end_turn", null))).await()).isEqualTo(ErrorCode.CONFLICT);
    // nor does ending the new owner's node's leases touch a reply the lost node no longer holds
    assertThat(store.expireLeasesOf("node-a/").await()).isEmpty();
    ChatMessage after = store.completeGeneration(lost, "node-b/w3",
        new Completion("fresh text", "m", null, "end_turn", null)).await();
    assertThat(after.content()).isEqualTo("fresh text");
    assertThat(failureOf(store.expireLeasesOf(" ")).await()).isEqualTo(ErrorCode.VALIDATION_FAILED);
  }

  @Test
  @DisplayName("Every lease-guarded write by a worker that does not hold the lease is a CONFLICT and changes nothing")
  void leaseGuardedWritesRejectStrangers(VertxTestContext ctx) {
    pendingReply()
        .compose(r -> {
          String id = r.reply().id();
          return store.claimGeneration(id, "owner", 30_000)
              .compose(c -> store.checkpointGeneration(id, "owner", "partial", 30_000))
              .compose(cp -> Future.all(List.of(
                      failureOf(store.completeGeneration(id, "intruder", new Completion("x", null, null, null, null))),
                      failureOf(store.failGeneration(id, "intruder", new ErrorInfo("E", "e"))),
                      failureOf(store.releaseForRetry(id, "intruder", Instant.now(), null)),
                      failureOf(store.cancelGeneration(id, "intruder", "y"))))
                  .compose(all -> store.getMessage(userA, r.userMessage().sessionId(), id).map(m -> {
                    ctx.verify(() -> {
                      assertThat(cp.leaseHeld()).isTrue();
                      assertThat(cp.cancelRequested()).isFalse();
                      assertThat(all.<ErrorCode>list()).containsOnly(ErrorCode.CONFLICT);
                      assertThat(m.status()).isEqualTo(MessageStatus.PROCESSING);
                      assertThat(m.content()).isEqualTo("partial");
                    });
                    return null;
                  })));
        })
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("A failed generation becomes an ai_error with its error; a released one waits for notBefore")
  void failAndRelease(Vertx vertx, VertxTestContext ctx) {
    Checkpoint failedEvent = ctx.checkpoint();
    Future<SendResult> first = pendingReply();
    Future<SendResult> second = first.compose(x -> pendingReply());
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, msg -> {
      MessageEvent e = MessageEvent.fromJson(msg.body());
      if (e.type().equals(MessageEvent.FAILED)) {
        ctx.verify(() -> assertThat(e.message().messageType()).isEqualTo(MessageType.AI_ERROR));
        failedEvent.flag();
      }
    });
    Checkpoint done = ctx.checkpoint();
    second
        .compose(r2 -> first.compose(r1 -> store.claimGeneration(r1.reply().id(), "w", 30_000)
            .compose(c -> store.failGeneration(r1.reply().id(), "w", new ErrorInfo("PROVIDER_REJECTED", "bad request")))
            .compose(failed -> store.claimGeneration(r2.reply().id(), "w", 30_000)
                .compose(c -> store.releaseForRetry(r2.reply().id(), "w", Instant.now().plusSeconds(60),
                    new ErrorInfo("OVERLOADED", "busy")))
                .compose(released -> store.claimGeneration(r2.reply().id(), "w2", 30_000)
                    .compose(early -> store.findStrandedReplies(Instant.now(), Instant.now().plusSeconds(5), 10)
                        .compose(stranded -> store.findStrandedReplies(
                                Instant.now().plusSeconds(120), Instant.now().plusSeconds(120), 10)
                            .map(later -> {
                              ctx.verify(() -> {
                                assertThat(failed.messageType()).isEqualTo(MessageType.AI_ERROR);
                                assertThat(failed.status()).isEqualTo(MessageStatus.FAILED);
                                assertThat(failed.error()).isEqualTo(new ErrorInfo("PROVIDER_REJECTED", "bad request"));
                                assertThat(released.status()).isEqualTo(MessageStatus.PENDING);
                                assertThat(early.claimed()).isFalse();
                                assertThat(stranded).doesNotContain(r2.reply().id(), r1.reply().id());
                                assertThat(later).contains(r2.reply().id()).doesNotContain(r1.reply().id());
                              });
                              return null;
                            })))))))
        .onComplete(ctx.succeeding(v -> done.flag()));
  }

  @Test
  @DisplayName("Cancel: a pending reply is cancelled at once; a processing one is flagged and its worker cancels it")
  void cancelSemantics(VertxTestContext ctx) {
    var seen = new Object() {
      String sessionId;
      SendResult first;
      SendResult second;
      ChatMessage cancelledAtOnce;
      ErrorCode cancelAgain;
      ErrorCode cancelUserMessage;
      ClaimResult claimOfCancelled;
      ChatMessage flagged;
      ChatStore.CheckpointResult checkpoint;
    };
    store.createSession(userA, null, "cancel")
        .compose(s -> { seen.sessionId = s.id(); return store.sendMessage(userA, s.id(), "one", null); })
        .compose(p1 -> { seen.first = p1; return store.requestCancel(userA, seen.sessionId, p1.reply().id()); })
        .compose(c -> { seen.cancelledAtOnce = c;
          return failureOf(store.requestCancel(userA, seen.sessionId, seen.first.reply().id())); })
        .compose(code -> { seen.cancelAgain = code;
          return failureOf(store.requestCancel(userA, seen.sessionId, seen.first.userMessage().id())); })
        .compose(code -> { seen.cancelUserMessage = code;
          return store.claimGeneration(seen.first.reply().id(), "w", 30_000); })
        .compose(claim -> { seen.claimOfCancelled = claim;
          return store.sendMessage(userA, seen.sessionId, "two", null); })
        .compose(p2 -> { seen.second = p2; return store.claimGeneration(p2.reply().id(), "w", 30_000); })
        .compose(claim -> store.requestCancel(userA, seen.sessionId, seen.second.reply().id()))
        .compose(f -> { seen.flagged = f;
          return store.checkpointGeneration(seen.second.reply().id(), "w", "half", 30_000); })
        .compose(cp -> { seen.checkpoint = cp;
          return store.cancelGeneration(seen.second.reply().id(), "w", "half of it"); })
        .onComplete(ctx.succeeding(cancelled -> ctx.verify(() -> {
          assertThat(seen.cancelledAtOnce.status()).isEqualTo(MessageStatus.CANCELLED);
          assertThat(seen.cancelAgain).isEqualTo(ErrorCode.CONFLICT);
          assertThat(seen.cancelUserMessage).isEqualTo(ErrorCode.VALIDATION_FAILED);
          assertThat(seen.claimOfCancelled.claimed()).isFalse();
          assertThat(seen.claimOfCancelled.message().status()).isEqualTo(MessageStatus.CANCELLED);
          assertThat(seen.flagged.status()).isEqualTo(MessageStatus.PROCESSING);
          assertThat(seen.checkpoint.leaseHeld()).isTrue();
          assertThat(seen.checkpoint.cancelRequested()).isTrue();
          assertThat(cancelled.status()).isEqualTo(MessageStatus.CANCELLED);
          assertThat(cancelled.content()).isEqualTo("half of it");
          ctx.completeNow();
        })));
  }

  @Test
  @DisplayName("A claim of a reply whose cancel was requested (its worker died) cancels it instead of claiming")
  void claimOfCancelRequestedReply(VertxTestContext ctx) {
    pendingReply()
        .compose(r -> store.claimGeneration(r.reply().id(), "dead", 1)
            .compose(c -> store.requestCancel(userA, r.reply().sessionId(), r.reply().id()))
            .compose(flagged -> pause(20))
            .compose(v -> store.claimGeneration(r.reply().id(), "sweeper", 30_000))
            .map(claim -> {
              ctx.verify(() -> {
                assertThat(claim.claimed()).isFalse();
                assertThat(claim.message().status()).isEqualTo(MessageStatus.CANCELLED);
              });
              return null;
            }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("loadHistory returns the window before a reply, newest first, only user and completed ai_report messages")
  void loadHistoryWindow(VertxTestContext ctx) {
    store.createSession(userA, null, "history")
        .compose(s -> completedTurn(s.id(), "q1", "a1")
            .compose(x -> failedTurn(s.id(), "q2"))
            .compose(x -> completedTurn(s.id(), "q3", "a3"))
            .compose(x -> store.sendMessage(userA, s.id(), "q4", null))
            .compose(last -> store.loadHistory(s.id(), last.reply().createdAt(), last.reply().id(), 100)
                .compose(all -> store.loadHistory(s.id(), last.reply().createdAt(), last.reply().id(), 3)
                    .map(window -> {
                      ctx.verify(() -> {
                        assertThat(all).extracting(ChatMessage::content)
                            .containsExactly("q4", "a3", "q3", "q2", "a1", "q1");
                        assertThat(window).extracting(ChatMessage::content).containsExactly("q4", "a3", "q3");
                      });
                      return null;
                    }))))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Stranded replies are old pending ones and expired leases, never fresh, leased or final ones")
  void strandedReplies(VertxTestContext ctx) {
    store.createSession(userA, null, "sweep")
        .compose(s -> store.sendMessage(userA, s.id(), "pending", null)
            .compose(pending -> store.sendMessage(userA, s.id(), "expired", null)
                .compose(expired -> store.claimGeneration(expired.reply().id(), "w", 1)
                    .compose(x -> store.sendMessage(userA, s.id(), "leased", null))
                    .compose(leased -> store.claimGeneration(leased.reply().id(), "w", 60_000)
                        .compose(x -> completedTurn(s.id(), "done", "answer"))
                        .compose(x -> pause(20))
                        .compose(x -> store.findStrandedReplies(Instant.now(), Instant.now().minusSeconds(60), 10))
                        .compose(fresh -> store.findStrandedReplies(Instant.now(), Instant.now().plusSeconds(1), 10)
                            .compose(old -> store.findActiveReplies(userA, s.id()).map(active -> {
                              ctx.verify(() -> {
                                assertThat(fresh).containsExactly(expired.reply().id());
                                assertThat(old).containsExactlyInAnyOrder(
                                    pending.reply().id(), expired.reply().id());
                                assertThat(active).extracting(ChatMessage::id).containsExactly(
                                    pending.reply().id(), expired.reply().id(), leased.reply().id());
                              });
                              return null;
                            })))))))
        .onComplete(ctx.succeedingThenComplete());
  }

  // ---- events, isolation, ids -------------------------------------------------------------------

  @Test
  @DisplayName("Domain events are published after the write: the data is readable when the event arrives")
  void eventsAfterWrites(Vertx vertx, VertxTestContext ctx) {
    Checkpoint sessionCreated = ctx.checkpoint();
    Checkpoint sessionDeleted = ctx.checkpoint();
    // session.updated and both message.created events checked; only then is the session deleted
    AtomicInteger sendEventsToCheck = new AtomicInteger(3);
    Promise<Void> sendEventsChecked = Promise.promise();
    Runnable sendEventChecked = () -> {
      if (sendEventsToCheck.decrementAndGet() == 0) {
        sendEventsChecked.complete();
      }
    };
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_SESSION, msg -> {
      SessionEvent e = SessionEvent.fromJson(msg.body());
      switch (e.type()) {
        case SessionEvent.CREATED -> store.getSession(userA, e.sessionId())
            .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
              assertThat(e.session()).isEqualTo(s);
              sessionCreated.flag();
            })));
        case SessionEvent.UPDATED -> store.getSession(userA, e.sessionId())
            .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
              assertThat(s.messageCount()).isEqualTo(2);
              assertThat(e.session()).isEqualTo(s);
              sendEventChecked.run();
            })));
        case SessionEvent.DELETED -> failureOf(store.getSession(userA, e.sessionId()))
            .onComplete(ctx.succeeding(code -> ctx.verify(() -> {
              assertThat(code).isEqualTo(ErrorCode.NOT_FOUND);
              assertThat(e.userId()).isEqualTo(userA);
              assertThat(e.session()).isNull();
              sessionDeleted.flag();
            })));
        default -> ctx.failNow("unexpected session event " + e.type());
      }
    });
    List<MessageType> createdOrder = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_MESSAGE, msg -> {
      MessageEvent e = MessageEvent.fromJson(msg.body());
      ctx.verify(() -> assertThat(e.type()).isEqualTo(MessageEvent.CREATED));
      createdOrder.add(e.message().messageType());
      store.getMessage(userA, e.sessionId(), e.message().id())
          .onComplete(ctx.succeeding(m -> ctx.verify(() -> {
            assertThat(m).isEqualTo(e.message());
            assertThat(e.userId()).isEqualTo(userA);
            sendEventChecked.run();
          })));
    });
    store.createSession(userA, null, "events")
        .compose(s -> store.sendMessage(userA, s.id(), "hi", null).map(s))
        .compose(s -> sendEventsChecked.future().map(s))
        .map(s -> {
          // a client appending messages as they arrive shows the question before its reply
          ctx.verify(() -> assertThat(createdOrder).containsExactly(MessageType.USER, MessageType.AI_REPORT));
          return s;
        })
        .compose(s -> store.deleteSession(userA, s.id()))
        .onComplete(ctx.succeeding(v -> { }));
  }

  @Test
  @DisplayName("Another user's session and messages are NOT_FOUND on every operation, and nothing changes")
  void isolationByUser(VertxTestContext ctx) {
    store.createSession(userA, null, "private")
        .compose(s -> store.sendMessage(userA, s.id(), "secret", "cm").compose(p -> {
          String sid = s.id();
          String mid = p.reply().id();
          return Future.all(List.of(
                  failureOf(store.getSession(userB, sid)),
                  failureOf(store.renameSession(userB, sid, "hijack")),
                  failureOf(store.deleteSession(userB, sid)),
                  failureOf(store.sendMessage(userB, sid, "intrude", "cm")),
                  failureOf(store.listMessages(userB, sid, null, null, 10)),
                  failureOf(store.getMessage(userB, sid, mid)),
                  failureOf(store.requestCancel(userB, sid, mid)),
                  failureOf(store.findActiveReplies(userB, sid))))
              .compose(codes -> store.listSessions(userB, null, 10, null)
                  .compose(bList -> store.getSession(userA, sid)
                      .compose(after -> store.listMessages(userA, sid, null, null, 10).map(msgs -> {
                        ctx.verify(() -> {
                          assertThat(codes.<ErrorCode>list()).containsOnly(ErrorCode.NOT_FOUND);
                          assertThat(bList.items()).isEmpty();
                          assertThat(after.title()).isEqualTo("private");
                          assertThat(after.messageCount()).isEqualTo(2);
                          assertThat(msgs.items()).hasSize(2);
                          assertThat(msgs.items().get(1).status()).isEqualTo(MessageStatus.PENDING);
                        });
                        return null;
                      }))));
        }))
        .onComplete(ctx.succeedingThenComplete());
  }

  @Test
  @DisplayName("Malformed ids are NOT_FOUND, with a safe message")
  void malformedIds(VertxTestContext ctx) {
    store.createSession(userA, null, "ids")
        .compose(s -> Future.all(List.of(
                errorOf(store.getSession(userA, "nope")),
                errorOf(store.getSession("not-a-user", s.id())),
                errorOf(store.getMessage(userA, s.id(), "123")),
                errorOf(store.renameSession(userA, "zzzzzzzzzzzzzzzzzzzzzzzz", "x")),
                errorOf(store.deleteSession(userA, "{\"$ne\":null}")),
                errorOf(store.claimGeneration("bad", "w", 1000)),
                errorOf(store.getSession(userA, new ObjectId().toHexString())))))
        .onComplete(ctx.succeeding(all -> ctx.verify(() -> {
          List<Throwable> errors = all.list();
          assertThat(errors).extracting(ErrorCode::fromThrowable).containsOnly(ErrorCode.NOT_FOUND);
          assertThat(errors).extracting(Throwable::getMessage)
              .allSatisfy(m -> assertThat(m).matches("(session|message) not found"));
          ctx.completeNow();
        })));
  }

  // ---- the short send path (docs/architecture.md §5) ---------------------------------------------

  @Test
  @DisplayName("claimReply returns the reply, its question, the history window before it and the session: the same as claim, getMessage and loadHistory, with or without the session id")
  void claimReplyReturnsContext() {
    String session = store.createSession(userA, null, "ctx").await().id();
    for (int i = 0; i < 4; i++) {
      completedTurn(session, "q" + i, "a" + i).await();
    }
    SendResult asked = store.sendMessage(userA, session, "the question", null).await();
    // a later exchange that completed first: newer than the question, so not in its history
    SendResult later = store.sendMessage(userA, session, "a later question", null).await();
    store.claimGeneration(later.reply().id(), "w", 30_000).await();
    store.completeGeneration(later.reply().id(), "w", new Completion("later answer", "m", null, "end_turn", null)).await();

    List<ChatMessage> expected = store.loadHistory(session, asked.userMessage().createdAt(), asked.userMessage().id(), 5)
        .await();
    ChatStore.ReplyClaim claim = store.claimReply(asked.reply().id(), session, "w", 30_000, 5).await();
    assertThat(claim.claimed()).isTrue();
    assertThat(claim.message().status()).isEqualTo(MessageStatus.PROCESSING);
    assertThat(claim.message().attempts()).isEqualTo(1);
    assertThat(claim.question()).isEqualTo(asked.userMessage());
    assertThat(claim.history()).isEqualTo(expected);
    assertThat(claim.history()).extracting(ChatMessage::content).containsExactly("a3", "q3", "a2", "q2", "a1");
    assertThat(claim.session().id()).isEqualTo(session);
    // claimed already: not again, with its current state and no context
    ChatStore.ReplyClaim again = store.claimReply(asked.reply().id(), null, "w2", 30_000, 5).await();
    assertThat(again.claimed()).isFalse();
    assertThat(again.message().status()).isEqualTo(MessageStatus.PROCESSING);
    assertThat(again.history()).isNull();

    // with more newer completed messages than the window's slack: read the long way, the same result;
    // and without the session id (the sweep's dispatch): the reads after the claim, the same result
    SendResult old = store.sendMessage(userA, session, "an old question", null).await();
    SendResult older = store.sendMessage(userA, session, "another old question", null).await();
    for (int i = 0; i < 6; i++) {
      completedTurn(session, "n" + i, "m" + i).await();
    }
    List<ChatMessage> oldExpected = store.loadHistory(session, old.userMessage().createdAt(), old.userMessage().id(), 3)
        .await();
    ChatStore.ReplyClaim far = store.claimReply(old.reply().id(), session, "w", 30_000, 3).await();
    assertThat(far.claimed()).isTrue();
    assertThat(far.question()).isEqualTo(old.userMessage());
    assertThat(far.history()).isEqualTo(oldExpected);
    assertThat(far.history()).extracting(ChatMessage::content).containsExactly("later answer", "a later question", "the question");
    List<ChatMessage> olderExpected = store.loadHistory(session, older.userMessage().createdAt(),
        older.userMessage().id(), 3).await();
    ChatStore.ReplyClaim swept = store.claimReply(older.reply().id(), null, "w", 30_000, 3).await();
    assertThat(swept.claimed()).isTrue();
    assertThat(swept.question()).isEqualTo(older.userMessage());
    assertThat(swept.history()).isEqualTo(olderExpected);
    assertThat(swept.session().id()).isEqualTo(session);
  }

  @Test
  @DisplayName("claimReply of a reply whose session was deleted under it drops it without context, like claimGeneration")
  void claimReplyDropsOrphan() {
    SendResult pair = pendingReply().await();
    direct.removeDocument("chatsessions", new JsonObject().put("_id", oid(pair.reply().sessionId()))).await();
    ChatStore.ReplyClaim claim = store.claimReply(pair.reply().id(), pair.reply().sessionId(), "w", 30_000, 10).await();
    assertThat(claim.claimed()).isFalse();
    assertThat(claim.message()).isNull();
    assertThat(direct.count("prompthistories", new JsonObject().put("chatSessionId", oid(pair.reply().sessionId())))
        .await()).isZero();
  }

  @Test
  @DisplayName("A send whose first pending slot is taken stores its placeholder in the next free one; one refused by the cap leaves the session and the messages as they were")
  void sendTakesNextSlotAndRefusalLeavesSession() {
    String session = store.createSession(userA, null, "slots").await().id();
    SendResult first = store.sendMessage(userA, session, "one", null, pendingCap(2)).await();
    SendResult second = store.sendMessage(userA, session, "two", null, pendingCap(2)).await();
    JsonObject slotOf2 = direct.findOne("prompthistories", new JsonObject().put("_id", oid(second.reply().id())), null)
        .await();
    assertThat(slotOf2.getString("pendingSlot")).isEqualTo(userA + ":1");
    ChatSession before = store.getSession(userA, session).await();
    assertThat(before.messageCount()).isEqualTo(4);
    assertThat(failureOf(store.sendMessage(userA, session, "three", null, pendingCap(2))).await())
        .isEqualTo(ErrorCode.TOO_MANY_PENDING);
    assertThat(store.getSession(userA, session).await()).isEqualTo(before);
    assertThat(direct.count("prompthistories", new JsonObject().put("chatSessionId", oid(session))).await()).isEqualTo(4);
    // the slot the first reply frees is taken by the next send
    store.requestCancel(userA, session, first.reply().id()).await();
    SendResult third = store.sendMessage(userA, session, "three", null, pendingCap(2)).await();
    assertThat(direct.findOne("prompthistories", new JsonObject().put("_id", oid(third.reply().id())), null).await()
        .getString("pendingSlot")).isEqualTo(userA + ":0");
    assertThat(store.getSession(userA, session).await().messageCount()).isEqualTo(6);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  protected Future<SendResult> pendingReply() {
    return store.createSession(userA, null, "gen")
        .compose(s -> store.sendMessage(userA, s.id(), "please write", null));
  }

  private Future<Void> completedTurn(String sessionId, String question, String answer) {
    return store.sendMessage(userA, sessionId, question, null)
        .compose(r -> store.claimGeneration(r.reply().id(), "w", 30_000)
            .compose(c -> store.completeGeneration(r.reply().id(), "w",
                new Completion(answer, "m", null, "end_turn", null))))
        .mapEmpty();
  }

  private Future<Void> failedTurn(String sessionId, String question) {
    return store.sendMessage(userA, sessionId, question, null)
        .compose(r -> store.claimGeneration(r.reply().id(), "w", 30_000)
            .compose(c -> store.failGeneration(r.reply().id(), "w", new ErrorInfo("X", "failed"))))
        .mapEmpty();
  }

  protected Future<List<ChatSession>> allSessions(String user, String team, int limit) {
    return sessionPages(user, team, limit, null, new ArrayList<>());
  }

  private Future<List<ChatSession>> sessionPages(
      String user, String team, int limit, String cursor, List<ChatSession> acc) {
    return store.listSessions(user, team, limit, cursor).compose(page -> {
      if (page.items().size() > limit) {
        return Future.failedFuture(new AssertionError("page larger than limit"));
      }
      acc.addAll(page.items());
      return page.nextCursor() == null
          ? Future.succeededFuture(acc)
          : sessionPages(user, team, limit, page.nextCursor(), acc);
    });
  }

  private Future<List<String>> forwardPages(String sessionId, String after, int limit, List<String> acc) {
    return store.listMessages(userA, sessionId, after, null, limit).compose(page -> {
      page.items().forEach(m -> acc.add(m.id()));
      return page.nextCursor() == null
          ? Future.succeededFuture(acc)
          : forwardPages(sessionId, page.nextCursor(), limit, acc);
    });
  }

  /** Pages backwards from {@code before}, returning the ids in chronological order. */
  private Future<List<String>> backwardPages(String sessionId, String before, int limit, List<String> acc) {
    return store.listMessages(userA, sessionId, null, before, limit).compose(page -> {
      List<String> ids = new ArrayList<>(page.items().stream().map(ChatMessage::id).toList());
      ids.addAll(acc);
      return page.nextCursor() == null
          ? Future.succeededFuture(ids)
          : backwardPages(sessionId, page.nextCursor(), limit, ids);
    });
  }

  protected Future<Void> pause(long ms) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(ms, id -> p.complete());
    return p.future();
  }

  protected static JsonObject oid(String hex) {
    return new JsonObject().put("$oid", hex);
  }

  protected static JsonObject date(Instant t) {
    return new JsonObject().put("$date", t.truncatedTo(ChronoUnit.MILLIS).toString());
  }

}
