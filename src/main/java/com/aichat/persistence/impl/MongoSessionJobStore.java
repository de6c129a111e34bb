package com.aichat.persistence.impl;

import com.aichat.persistence.StoreChanges;
import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatSession;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.SessionEvent;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.contract.SessionJobState;
import com.aichat.contract.SessionSummary;
import com.aichat.contract.ChatMessage;
import com.aichat.persistence.Jobs;
import com.aichat.persistence.Jobs.SessionJobClaim;
import com.aichat.persistence.Jobs.SessionJobEnd;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session-job half of {@link MongoChatStore} (docs/generation.md, "Session jobs"): each
 * {@link SessionJobKind} keeps its state in the session document's {@code <kind>Job} sub-document,
 * claimed with one atomic {@code findOneAndUpdate} on the session's {@code _id}, written only while the
 * lease is held, and found by the sweep through the sparse index {@code <kind>Job_status_dueAt}. What a
 * completed job changes on the session is decided here, per kind, inside the same conditional write.
 * Semantics are documented on {@link com.aichat.persistence.Jobs}.
 */
public final class MongoSessionJobStore extends MongoStoreSupport implements Jobs {

  private static final Logger log = LoggerFactory.getLogger(MongoSessionJobStore.class);

  /** Kinds whose jobs the store enqueues itself when a reply completes. */
  private final Set<SessionJobKind> autoKinds;

  MongoSessionJobStore(
      Vertx vertx, MongoClient mongo, Clock clock, Set<SessionJobKind> autoKinds, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    // the summary job is never started by a completion alone: the worker enqueues it when a reply's
    // context asks for it (docs/context.md)
    this.autoKinds = autoKinds.stream().filter(k -> k != SessionJobKind.SUMMARY).collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /** The name of the sweep's index of a kind. */
  static String indexName(SessionJobKind kind) {
    return kind.field() + "_status_dueAt";
  }

  // ---- triggers ---------------------------------------------------------------------------------

  /**
   * Called before a reply's completion is written: enqueues the jobs a completed exchange starts
   * (the title job on the session's first). Done before the reply's final write, so a crash between
   * the two leaves a pending job (run later by the sweep) rather than none. Never fails: a trigger
   * that cannot be written is logged, and the reply completes regardless. Replies the jobs created,
   * to be sent once the reply's write is done ({@link #send}).
   */
  /** True when a completing reply may enqueue a job (some kind is enqueued automatically). */
  boolean enqueuesOnCompletion() {
    return !autoKinds.isEmpty();
  }

  Future<List<SessionJobRequest>> beforeReplyCompletes(Object sessionOid) {
    String sessionId = MongoDocs.id(sessionOid);
    List<Future<SessionJobRequest>> created = new ArrayList<>();
    for (SessionJobKind kind : autoKinds) {
      created.add(create(sessionId, kind)
          .map(c -> c ? new SessionJobRequest(sessionId, kind) : null)
          .recover(err -> {
            log.warn("session {}: {} job not enqueued: {}", sessionId, kind.wire(), err.toString());
            return Future.succeededFuture(null);
          }));
    }
    return Future.join(created).map(cf -> created.stream()
        .map(Future::result)
        .filter(java.util.Objects::nonNull)
        .toList())
        .otherwise(List.of());
  }

  /** Reports enqueued jobs as due (the service layer hands them to a worker; a lost hand-off is the sweep's to redo). */
  void send(List<SessionJobRequest> jobs) {
    if (!jobs.isEmpty()) {
      changes.sessionJobsDue(jobs);
    }
  }

  /** The session filter under which a job of {@code kind} may be created: none yet, plus the kind's own rule. */
  private static JsonObject creatable(String sessionId, SessionJobKind kind) {
    JsonObject filter = new JsonObject().put("_id", oid(sessionId));
    return switch (kind) {
      case TITLE -> filter
          .put(kind.field(), new JsonObject().put("$exists", false))
          .put("titleSource", ChatSession.TITLE_DEFAULT);
      // a summary job runs again and again: a new one may start whenever none is pending or running
      case SUMMARY -> filter.put("$or", new JsonArray()
          .add(new JsonObject().put(kind.field(), new JsonObject().put("$exists", false)))
          .add(new JsonObject().put(kind.field() + ".status", new JsonObject().put("$in", new JsonArray()
              .add(SessionJobState.COMPLETED).add(SessionJobState.SKIPPED).add(SessionJobState.FAILED)))));
    };
  }

  // ---- the job's life ---------------------------------------------------------------------------

  @Override
  public Future<Boolean> enqueueSessionJob(String sessionId, SessionJobKind kind) {
    if (kind == null) {
      return invalid("kind is required");
    }
    if (!isId(sessionId)) {
      return sessionNotFound();
    }
    return create(sessionId, kind)
        .compose(created -> created
            ? Future.succeededFuture(true)
            : mongo.findOne(SESSIONS, new JsonObject().put("_id", oid(sessionId)), new JsonObject().put("_id", 1))
                .compose(doc -> doc == null ? sessionNotFound() : Future.succeededFuture(false)))
        .onSuccess(created -> {
          if (created) {
            send(List.of(new SessionJobRequest(sessionId, kind)));
          }
        })
        .recover(err -> MongoFailures.classify("enqueueSessionJob", err));
  }

  private Future<Boolean> create(String sessionId, SessionJobKind kind) {
    Instant now = now();
    JsonObject job = new JsonObject()
        .put("status", SessionJobState.PENDING)
        .put("attempts", 0)
        .put("dueAt", date(now))
        .put("createdAt", date(now))
        .put("updatedAt", date(now));
    return mongo
        .updateCollection(SESSIONS, creatable(sessionId, kind), new JsonObject().put("$set", new JsonObject().put(kind.field(), job)))
        .map(r -> r.getDocModified() > 0);
  }

  @Override
  public Future<SessionJobClaim> claimSessionJob(String sessionId, SessionJobKind kind, String workerId, long leaseMillis) {
    if (kind == null) {
      return invalid("kind is required");
    }
    if (!isId(sessionId)) {
      return sessionNotFound();
    }
    if (workerId == null || workerId.isBlank() || leaseMillis <= 0) {
      return invalid("workerId and a positive leaseMillis are required");
    }
    Instant now = now();
    String f = kind.field();
    JsonObject query = new JsonObject()
        .put("_id", oid(sessionId))
        .put("$or", new JsonArray()
            .add(new JsonObject().put(f + ".status", SessionJobState.PENDING)
                .put(f + ".dueAt", new JsonObject().put("$lte", date(now))))
            .add(new JsonObject().put(f + ".status", SessionJobState.PROCESSING)
                .put(f + ".dueAt", new JsonObject().put("$lt", date(now)))));
    Instant until = now.plusMillis(leaseMillis);
    JsonObject update = new JsonObject()
        .put("$set", new JsonObject()
            .put(f + ".status", SessionJobState.PROCESSING)
            .put(f + ".leaseOwner", workerId)
            .put(f + ".leaseUntil", date(until))
            .put(f + ".dueAt", date(until))
            .put(f + ".updatedAt", date(now)))
        .put("$inc", new JsonObject().put(f + ".attempts", 1));
    return findAndUpdate(SESSIONS, query, update)
        .compose(doc -> doc != null
            ? Future.succeededFuture(new SessionJobClaim(true, MongoDocs.session(doc), state(doc, kind)))
            : mongo.findOne(SESSIONS, new JsonObject().put("_id", oid(sessionId)), null)
                .map(cur -> new SessionJobClaim(false, cur == null ? null : MongoDocs.session(cur), cur == null ? null : state(cur, kind))))
        .recover(err -> MongoFailures.classify("claimSessionJob", err));
  }

  @Override
  public Future<Boolean> renewSessionJob(String sessionId, SessionJobKind kind, String workerId, long leaseMillis) {
    if (kind == null || workerId == null || leaseMillis <= 0) {
      return invalid("kind, workerId and a positive leaseMillis are required");
    }
    if (!isId(sessionId)) {
      return sessionNotFound();
    }
    Instant now = now();
    Instant until = now.plusMillis(leaseMillis);
    String f = kind.field();
    JsonObject update = new JsonObject().put("$set", new JsonObject()
        .put(f + ".leaseUntil", date(until))
        .put(f + ".dueAt", date(until))
        .put(f + ".updatedAt", date(now)));
    return findAndUpdate(SESSIONS, leaseFilter(sessionId, kind, workerId), update)
        .map(doc -> doc != null)
        .recover(err -> MongoFailures.classify("renewSessionJob", err));
  }

  @Override
  public Future<SessionJobEnd> completeSessionJob(String sessionId, SessionJobKind kind, String workerId, JsonObject result) {
    if (kind == null || workerId == null) {
      return invalid("kind and workerId are required");
    }
    if (!isId(sessionId)) {
      return sessionNotFound();
    }
    Instant now = now();
    JsonObject apply = applyFilter(sessionId, kind, workerId, result);
    boolean more = kind == SessionJobKind.SUMMARY && result != null && result.getBoolean("more", false);
    Future<JsonObject> applied = apply == null
        ? Future.succeededFuture(null)
        : findAndUpdate(SESSIONS, apply, more
            ? continueUpdate(kind, resultSet(kind, result, now), now)
            : endUpdate(kind, SessionJobState.COMPLETED, resultSet(kind, result, now), null, now));
    return applied
        .compose(doc -> {
          if (doc != null) {
            ChatSession s = MongoDocs.session(doc);
            publishSession(SessionEvent.UPDATED, s);
            if (more) {
              send(List.of(new SessionJobRequest(sessionId, kind)));
            }
            return Future.succeededFuture(new SessionJobEnd(true, s));
          }
          // Not applicable any more (or not held): end it as skipped while the lease is ours.
          return leaseGuarded(sessionId, kind, workerId,
                  endUpdate(kind, SessionJobState.SKIPPED, new JsonObject(), null, now), "completed")
              .map(d -> new SessionJobEnd(false, MongoDocs.session(d)));
        })
        .recover(err -> MongoFailures.classify("completeSessionJob", err));
  }

  /** The lease filter plus the kind's rule for its result to apply; null when the result cannot apply. */
  private static JsonObject applyFilter(String sessionId, SessionJobKind kind, String workerId, JsonObject result) {
    if (result == null) {
      return null;
    }
    return switch (kind) {
      case TITLE -> {
        String title = result.getValue("title") instanceof String t ? t : null;
        yield title == null || title.isBlank()
            ? null
            : leaseFilter(sessionId, kind, workerId).put("titleSource", ChatSession.TITLE_DEFAULT);
      }
      case SUMMARY -> {
        // the summary advances one version at a time, from the version the job read
        long expected = result.getLong("expectedVersion", -1L);
        String text = result.getValue("text") instanceof String t ? t : null;
        yield expected < 0 || text == null || text.isBlank() || !isId(result.getString("coversThroughMessageId"))
            ? null
            : leaseFilter(sessionId, kind, workerId).put("summary.version", expected == 0
                ? new JsonObject().put("$exists", false)
                : expected);
      }
    };
  }

  /** The session fields a kind's applied result sets. */
  private static JsonObject resultSet(SessionJobKind kind, JsonObject result, Instant now) {
    return switch (kind) {
      case TITLE -> new JsonObject()
          .put("title", result.getString("title"))
          .put("titleSource", ChatSession.TITLE_AUTO)
          .put("updatedAt", date(now));
      // not updatedAt: a summary is no activity and must not reorder the session list
      case SUMMARY -> new JsonObject().put("summary", MongoDocs.summaryDoc(new SessionSummary(
          result.getLong("expectedVersion") + 1,
          result.getString("text"),
          result.getString("coversThroughMessageId"),
          java.time.Instant.parse(result.getString("coversThroughCreatedAt")),
          result.getLong("messagesCovered", 0L),
          result.getString("model"),
          now)));
    };
  }

  /**
   * A summary run that left a backlog: its result is written and the job is pending again at once
   * (attempts reset), in the same write, so the next run follows whatever happens to this worker.
   */
  private static JsonObject continueUpdate(SessionJobKind kind, JsonObject set, Instant now) {
    String f = kind.field();
    set.put(f + ".status", SessionJobState.PENDING)
        .put(f + ".attempts", 0)
        .put(f + ".dueAt", date(now))
        .put(f + ".updatedAt", date(now));
    return new JsonObject()
        .put("$set", set)
        .put("$unset", new JsonObject().put(f + ".leaseOwner", "").put(f + ".leaseUntil", "").put(f + ".lastError", ""));
  }

  @Override
  public Future<Void> releaseSessionJob(String sessionId, SessionJobKind kind, String workerId, Instant notBefore, ErrorInfo lastError) {
    if (kind == null || workerId == null) {
      return invalid("kind and workerId are required");
    }
    Instant now = now();
    String f = kind.field();
    JsonObject set = new JsonObject()
        .put(f + ".status", SessionJobState.PENDING)
        .put(f + ".dueAt", date(notBefore == null ? now : notBefore))
        .put(f + ".updatedAt", date(now));
    if (lastError != null) {
      set.put(f + ".lastError", lastError.toJson());
    }
    JsonObject update = new JsonObject()
        .put("$set", set)
        .put("$unset", new JsonObject().put(f + ".leaseOwner", "").put(f + ".leaseUntil", ""));
    return leaseGuarded(sessionId, kind, workerId, update, "released")
        .<Void>mapEmpty()
        .recover(err -> MongoFailures.classify("releaseSessionJob", err));
  }

  @Override
  public Future<Void> failSessionJob(String sessionId, SessionJobKind kind, String workerId, ErrorInfo error) {
    if (kind == null || workerId == null || error == null) {
      return invalid("kind, workerId and error are required");
    }
    Instant now = now();
    return leaseGuarded(sessionId, kind, workerId, endUpdate(kind, SessionJobState.FAILED, new JsonObject(), error, now), "failed")
        .<Void>mapEmpty()
        .recover(err -> MongoFailures.classify("failSessionJob", err));
  }

  // ---- compaction (docs/context.md) --------------------------------------------------------------

  @Override
  public Future<List<ChatMessage>> loadHistoryRange(
      String sessionId, Instant afterCreatedAt, String afterId, Instant beforeCreatedAt, String beforeId,
      int limit, boolean newestFirst) {
    if (!isId(sessionId)) {
      return notFound("session not found");
    }
    if ((afterId != null && !isId(afterId)) || (beforeId != null && !isId(beforeId))
        || (afterId == null) != (afterCreatedAt == null) || (beforeId == null) != (beforeCreatedAt == null)) {
      return invalid("a range bound is a createdAt with a 24-hex id");
    }
    JsonObject query =
        new JsonObject()
            .put("chatSessionId", oid(sessionId))
            .put("messageType", new JsonObject().put("$in", new JsonArray().add(USER).add(AI_REPORT)))
            .put("status", COMPLETED);
    SortKey after = afterId == null ? null : new SortKey(afterCreatedAt, afterId);
    SortKey before = beforeId == null ? null : new SortKey(beforeCreatedAt, beforeId);
    // walk from the bound the order starts at, with the other one as the far bound (SortedWalk)
    return SortedWalk.beyond(mongo, MESSAGES, query, newestFirst ? before : after, newestFirst ? after : before,
            !newestFirst, limit)
        .map(docs -> docs.stream().map(MongoDocs::message).toList())
        .recover(err -> MongoFailures.classify("loadHistoryRange", err));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private Future<JsonObject> leaseGuarded(
      String sessionId, SessionJobKind kind, String workerId, JsonObject update, String what) {
    if (!isId(sessionId)) {
      return sessionNotFound();
    }
    return findAndUpdate(SESSIONS, leaseFilter(sessionId, kind, workerId), update)
        .compose(doc -> doc == null
            ? Future.failedFuture(ErrorCode.CONFLICT.failure("the lease is not held; " + kind.wire() + " job not " + what))
            : Future.succeededFuture(doc));
  }

  private static JsonObject leaseFilter(String sessionId, SessionJobKind kind, String workerId) {
    return new JsonObject()
        .put("_id", oid(sessionId))
        .put(kind.field() + ".status", SessionJobState.PROCESSING)
        .put(kind.field() + ".leaseOwner", workerId);
  }

  /** A final status plus {@code set}; the lease is cleared and {@code dueAt} removed, so the sweep's index skips it. */
  private static JsonObject endUpdate(SessionJobKind kind, String status, JsonObject set, ErrorInfo error, Instant now) {
    String f = kind.field();
    set.put(f + ".status", status).put(f + ".updatedAt", date(now));
    if (error != null) {
      set.put(f + ".lastError", error.toJson());
    }
    return new JsonObject()
        .put("$set", set)
        .put("$unset", new JsonObject().put(f + ".leaseOwner", "").put(f + ".leaseUntil", "").put(f + ".dueAt", ""));
  }

  private static SessionJobState state(JsonObject doc, SessionJobKind kind) {
    JsonObject j = doc.getJsonObject(kind.field());
    if (j == null) {
      return null;
    }
    return new SessionJobState(
        j.getString("status"),
        j.getInteger("attempts", 0),
        MongoDocs.instant(j.getValue("dueAt")),
        j.getString("leaseOwner"),
        MongoDocs.instant(j.getValue("leaseUntil")),
        ErrorInfo.fromJson(j.getJsonObject("lastError")));
  }
}
