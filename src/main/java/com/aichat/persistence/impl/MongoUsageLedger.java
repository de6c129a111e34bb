package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.ErrorCode;
import com.aichat.persistence.Conversations.UsageEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-user daily usage ledger, collection {@value #USAGE_LEDGER}: one document per (user, UTC day,
 * model), {@code _id = "<userId>:<yyyy-MM-dd>:<model>"}, with {@code userId}, {@code day} (the day's
 * midnight), {@code model}, {@code inputTokens}, {@code outputTokens}, {@code cacheReadTokens},
 * {@code cacheWriteTokens}, {@code replies}, {@code createdAt}, {@code updatedAt} and
 * {@code recentReplies} (the last {@value #RECENT} completions counted, as {@code replyId#attempts}, newest last).
 *
 * <p><b>Why a sibling of {@code usage_counters}.</b> The quota's counter is one document per (user,
 * day) taken by a conditional {@code $lt} increment at admission and given back when a send stores
 * nothing; the ledger counts what completed replies actually used, per model, after the fact. Mixing
 * them would put per-model fields and the completion's idempotency list into the document every send
 * contends on, and make the quota's refund and the ledger's exactly-once rule share one update.
 *
 * <p><b>Exactly once.</b> Only the completion that wins the lease-guarded final write
 * ({@link MongoGenerationStore#completeGeneration}) records anything: a retried or stale completion
 * fails that write with CONFLICT and never gets here. That write also marks the reply
 * {@code usageLedger: "pending"}; the ledger increment is one {@code findOneAndUpdate} with upsert of
 * {@code {_id, recentReplies: {$ne: replyId}}} that {@code $inc}s the counts and pushes the id (capped
 * with {@code $slice}); then the mark is removed. A crash between the two writes leaves the mark, and
 * {@link #recover} applies the reply later; a crash after the increment but before the unmark is
 * recognised by {@code recentReplies} and not counted again. The database serialises concurrent
 * increments of one document, so concurrent completions never lose an update. As with the quota, the
 * loser of two first inserts of the day collides on {@code _id} (E11000) and retries without upsert.
 */
final class MongoUsageLedger {

  private static final Logger log = LoggerFactory.getLogger(MongoUsageLedger.class);

  /** Collection of the usage ledger. */
  static final String USAGE_LEDGER = "usage_ledger";
  /** The reply field that says its ledger increment may still be owed. */
  static final String MARKER = "usageLedger";
  static final String MARKER_PENDING = "pending";
  /**
   * The mark a completion writes; {@link #recover} treats it as {@link #MARKER_PENDING}. Distinct so
   * that the batched unmark ({@link #recordBatched}) removes only the marks completions wrote, never a
   * mark written again later (by a recovery or by hand).
   */
  static final String MARKER_DUE = "due";
  /** Longest a completed reply keeps its mark after its ledger increment (batched unmark). */
  static final long UNMARK_DELAY_MS = 1_000;
  /** Unmarks gathered beyond this many are written at once. */
  static final int UNMARK_BATCH = 256;
  /** Reply ids kept per ledger document to recognise a re-applied reply. */
  static final int RECENT = 100;
  /** Most ledger rows one read returns (366 days × many models). */
  static final int MAX_ROWS = 20_000;

  private final MongoClient mongo;
  private final Clock clock;
  /** For the unmark timer; null: every unmark is written at once. */
  private final io.vertx.core.Vertx vertx;
  /** Replies whose ledger increment is done and whose mark is still to be removed. */
  private java.util.List<String> unmarks = new java.util.ArrayList<>();
  private long unmarkTimer = -1;

  MongoUsageLedger(MongoClient mongo, Clock clock) {
    this(null, mongo, clock);
  }

  MongoUsageLedger(io.vertx.core.Vertx vertx, MongoClient mongo, Clock clock) {
    this.vertx = vertx;
    this.mongo = mongo;
    this.clock = clock;
  }

  /**
   * As {@link #record}, for a completion's mark ({@link #MARKER_DUE}): the ledger increment now (the
   * returned future), the unmark gathered with other completions' and written as one
   * {@code updateMany} within {@link #UNMARK_DELAY_MS} (docs/architecture.md §5). A crash before that
   * write leaves marks that {@link #recover} finds counted already ({@code recentReplies}), as a crash
   * between increment and unmark always did.
   */
  Future<Void> recordBatched(ChatMessage reply) {
    Usage u = reply.usage();
    if (u == null) {
      return Future.succeededFuture();
    }
    if (vertx == null) {
      return record(reply, MARKER_DUE);
    }
    Instant at = reply.updatedAt() == null ? clock.instant() : reply.updatedAt();
    return apply(reply.userId(), countedKey(reply), reply.model() == null ? "unknown" : reply.model(), u, at)
        .onSuccess(applied -> queueUnmark(reply.id()))
        .mapEmpty();
  }

  private void queueUnmark(String replyId) {
    unmarks.add(replyId);
    if (unmarks.size() >= UNMARK_BATCH) {
      flushUnmarks();
    } else if (unmarkTimer == -1) {
      unmarkTimer = vertx.setTimer(UNMARK_DELAY_MS, t -> {
        unmarkTimer = -1;
        flushUnmarks();
      });
    }
  }

  /** Writes the gathered unmarks (one {@code updateMany}); never fails (a mark left is recovered). */
  Future<Void> flushUnmarks() {
    if (unmarkTimer != -1) {
      vertx.cancelTimer(unmarkTimer);
      unmarkTimer = -1;
    }
    if (unmarks.isEmpty()) {
      return Future.succeededFuture();
    }
    JsonArray ids = new JsonArray();
    unmarks.forEach(id -> ids.add(oid(id)));
    unmarks = new java.util.ArrayList<>();
    return mongo.updateCollectionWithOptions(MESSAGES,
            new JsonObject().put("_id", new JsonObject().put("$in", ids)).put(MARKER, MARKER_DUE),
            new JsonObject().put("$unset", new JsonObject().put(MARKER, "")),
            new UpdateOptions().setMulti(true))
        .<Void>mapEmpty()
        .recover(err -> {
          log.warn("usage ledger: {} marks not removed now ({}); recovery will", ids.size(), err.toString());
          return Future.succeededFuture();
        });
  }

  /** Adds a completed reply to the ledger (once), then removes its mark. */
  /**
   * What {@code recentReplies} remembers: the reply id and its attempt count, since a regenerate or a
   * continue completes the same reply id again and is counted again (docs/versions.md).
   */
  static String countedKey(ChatMessage reply) {
    return reply.id() + "#" + reply.attempts();
  }

  Future<Void> record(ChatMessage reply) {
    return record(reply, null);
  }

  /** The increment, then the unmark of a reply carrying {@code mark} (either mark when null). */
  private Future<Void> record(ChatMessage reply, String mark) {
    Usage u = reply.usage();
    if (u == null) {
      return Future.succeededFuture();
    }
    Instant at = reply.updatedAt() == null ? clock.instant() : reply.updatedAt();
    return apply(reply.userId(), countedKey(reply), reply.model() == null ? "unknown" : reply.model(), u, at)
        .compose(applied -> mongo.updateCollection(MESSAGES,
            new JsonObject().put("_id", oid(reply.id())).put(MARKER, mark != null ? mark : new JsonObject()
                .put("$in", new JsonArray().add(MARKER_PENDING).add(MARKER_DUE))),
            new JsonObject().put("$unset", new JsonObject().put(MARKER, ""))))
        .mapEmpty();
  }

  /** True when this call counted the reply, false when it was counted before. */
  private Future<Boolean> apply(String userId, String replyId, String model, Usage u, Instant at) {
    LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
    String id = userId + ":" + day + ":" + model;
    JsonObject query = new JsonObject().put("_id", id).put("recentReplies", new JsonObject().put("$ne", replyId));
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    JsonObject counts = new JsonObject()
        .put("$inc", new JsonObject()
            .put("inputTokens", u.inputTokens())
            .put("outputTokens", u.outputTokens())
            .put("cacheReadTokens", u.cacheReadTokens())
            .put("cacheWriteTokens", u.cacheWriteTokens())
            .put("replies", 1))
        .put("$push", new JsonObject().put("recentReplies",
            new JsonObject().put("$each", new JsonArray().add(replyId)).put("$slice", -RECENT)))
        .put("$set", new JsonObject().put("updatedAt", date(now)));
    JsonObject upsert = counts.copy().put("$setOnInsert", new JsonObject()
        .put("userId", oid(userId))
        .put("day", date(day.atStartOfDay(ZoneOffset.UTC).toInstant()))
        .put("model", model)
        .put("createdAt", date(now)));
    return mongo
        .findOneAndUpdateWithOptions(USAGE_LEDGER, query, upsert, new FindOptions(),
            new UpdateOptions().setUpsert(true).setReturningNewDocument(true))
        .recover(err -> MongoFailures.isDuplicateKey(err)
            // counted before (the document lists the reply), or another first reply of the day won the insert
            ? mongo.findOneAndUpdateWithOptions(USAGE_LEDGER, query, counts, new FindOptions(),
                new UpdateOptions().setReturningNewDocument(true))
            : Future.failedFuture(err))
        .map(doc -> doc != null);
  }

  /** Replies completed before {@code before} that still carry the mark; applies each, one at a time. */
  Future<Integer> recover(Instant before, int limit) {
    if (before == null) {
      return Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("completedBefore is required"));
    }
    JsonObject query = new JsonObject()
        .put(MARKER, new JsonObject().put("$in", new JsonArray().add(MARKER_PENDING).add(MARKER_DUE)))
        .put("updatedAt", new JsonObject().put("$lt", date(before)));
    // the unmarks gathered here first: their replies are counted already
    return (vertx == null ? Future.<Void>succeededFuture() : flushUnmarks())
        .compose(v -> mongo.findWithOptions(MESSAGES, query, new FindOptions().setLimit(Math.max(1, limit))))
        .compose(docs -> {
          Future<Void> chain = Future.succeededFuture();
          for (JsonObject d : docs) {
            ChatMessage m = MongoDocs.message(d);
            chain = chain.compose(v -> record(m).onSuccess(x ->
                log.info("usage ledger: reply {} of user {} recovered", m.id(), m.userId())));
          }
          return chain.map(v -> docs.size());
        });
  }

  /** The user's rows for the days {@code from}..{@code to}, by day then model. */
  Future<List<UsageEntry>> read(String userId, String from, String to) {
    LocalDate f;
    LocalDate t;
    try {
      f = LocalDate.parse(from == null ? "" : from);
      t = LocalDate.parse(to == null ? "" : to);
    } catch (DateTimeParseException e) {
      return Future.failedFuture(ErrorCode.INVALID_DATE_RANGE.failure("from and to must be yyyy-MM-dd dates"));
    }
    if (f.isAfter(t)) {
      return Future.failedFuture(ErrorCode.INVALID_DATE_RANGE.failure("from must not be after to"));
    }
    JsonObject query = new JsonObject()
        .put("userId", oid(userId))
        .put("day", new JsonObject()
            .put("$gte", date(f.atStartOfDay(ZoneOffset.UTC).toInstant()))
            .put("$lte", date(t.atStartOfDay(ZoneOffset.UTC).toInstant())));
    FindOptions opts = new FindOptions()
        .setSort(new JsonObject().put("day", 1).put("model", 1))
        .setFields(new JsonObject().put("recentReplies", 0))
        .setLimit(MAX_ROWS);
    return mongo.findWithOptions(USAGE_LEDGER, query, opts)
        .map(docs -> docs.stream().map(MongoUsageLedger::entry).toList());
  }

  private static UsageEntry entry(JsonObject d) {
    Instant day = MongoDocs.instant(d.getValue("day"));
    return new UsageEntry(
        LocalDate.ofInstant(day, ZoneOffset.UTC).toString(),
        d.getString("model"),
        number(d, "inputTokens"),
        number(d, "outputTokens"),
        number(d, "cacheReadTokens"),
        number(d, "cacheWriteTokens"),
        number(d, "replies"));
  }

  private static long number(JsonObject d, String field) {
    Object v = d.getValue(field);
    return v instanceof Number n ? n.longValue() : 0L;
  }
}
