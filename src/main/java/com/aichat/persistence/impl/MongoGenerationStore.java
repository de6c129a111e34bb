package com.aichat.persistence.impl;

import com.aichat.persistence.StoreChanges;
import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoChatStore.SESSIONS;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.isId;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Generations.CheckpointResult;
import com.aichat.persistence.Generations.ClaimResult;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Generations.ReplyClaim;
import com.aichat.contract.ChatSession;
import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generation half of {@link MongoChatStore} (docs/architecture.md §4): the atomic claim, lease-guarded
 * writes, cancel, the history window and the sweep's query. Semantics are documented on
 * {@link com.aichat.persistence.Generations}.
 */
public final class MongoGenerationStore extends MongoStoreSupport implements Generations {

  private static final Logger log = LoggerFactory.getLogger(MongoGenerationStore.class);

  private final MongoUsageLedger ledger;
  private final MongoSessionJobStore sessionJobs;

  MongoGenerationStore(Vertx vertx, MongoClient mongo, Clock clock, MongoUsageLedger ledger,
      MongoSessionJobStore sessionJobs, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    this.ledger = ledger;
    this.sessionJobs = sessionJobs;
  }

  Future<ChatMessage> requestCancel(String userId, String sessionId, String messageId) {
    return cancelOnce(userId, sessionId, messageId, 3)
        .recover(err -> MongoFailures.classify("requestCancel", err));
  }

  /** One attempt: read the state, then a write conditional on it; a concurrent change retries. */
  private Future<ChatMessage> cancelOnce(String userId, String sessionId, String messageId, int triesLeft) {
    return ownedMessage(userId, sessionId, messageId).compose(doc -> {
      ChatMessage current = MongoDocs.message(doc);
      if (current.messageType() == MessageType.USER || current.messageType() == MessageType.SYSTEM) {
        return invalid("only an AI reply can be cancelled");
      }
      if (current.status().isFinal() || current.messageType() != MessageType.AI_REPORT) {
        return Future.failedFuture(ErrorCode.CONFLICT.failure("the reply is already " + current.status().wire()));
      }
      Instant now = now();
      Future<JsonObject> write;
      boolean endsNow = current.status() == MessageStatus.PENDING;
      JsonObject undone = endsNow ? continueUndone(doc, CONTINUE_CANCELLED) : null;
      if (undone != null) {
        // a pending continue: back to the reply it continued (the same continue, still pending)
        write = findAndUpdate(MESSAGES,
            new JsonObject().put("_id", oid(messageId)).put("status", PENDING)
                .put("continueOffset", doc.getInteger("continueOffset")),
            undone);
      } else if (endsNow) {
        write = findAndUpdate(MESSAGES,
            new JsonObject().put("_id", oid(messageId)).put("status", PENDING),
            new JsonObject()
                .put("$set", new JsonObject().put("status", CANCELLED).put("updatedAt", date(now)))
                .put("$unset", new JsonObject().put("notBefore", "").put("continueOffset", "")
                    .put(MongoSendAdmission.PENDING_SLOT, "")));
      } else {
        write = findAndUpdate(MESSAGES,
            new JsonObject().put("_id", oid(messageId)).put("status", PROCESSING),
            new JsonObject().put("$set",
                new JsonObject().put("cancelRequested", true).put("updatedAt", date(now))));
      }
      return write.compose(updated -> {
        if (updated == null) {
          return triesLeft > 1
              ? cancelOnce(userId, sessionId, messageId, triesLeft - 1)
              : Future.failedFuture(ErrorCode.CONFLICT.failure("the reply changed; try again"));
        }
        ChatMessage after = MongoDocs.message(updated);
        if (endsNow) {
          publishMessage(MessageEvent.CANCELLED, after);
        }
        return Future.succeededFuture(after);
      });
    });
  }

  @Override
  public Future<ClaimResult> claimGeneration(String messageId, String workerId, long leaseMillis) {
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    if (workerId == null || workerId.isBlank() || leaseMillis <= 0) {
      return invalid("workerId and a positive leaseMillis are required");
    }
    JsonObject query = claimFilter(messageId, now());
    JsonObject update = claimUpdate(workerId, leaseMillis);
    return findAndUpdate(MESSAGES, query, update)
        .compose(doc -> doc == null ? notClaimed(messageId) : sessionStillThere(doc, workerId))
        .recover(err -> MongoFailures.classify("claimGeneration", err));
  }

  /** Completed history read beside the claim beyond the window: room for messages newer than the question. */
  static final int WINDOW_SLACK = 4;

  /**
   * {@link com.aichat.persistence.Generations#claimReply}: the claim ({@code findOneAndUpdate}), the session
   * ({@code findOne}: it still exists, its summary) and the session's newest completed messages
   * ({@code find}, one index walk of {@code chatSessionId_createdAt_id}), which hold the question and
   * the history window before it. With {@code sessionId} given the two reads run beside the claim (one
   * round trip); without, after it. Only when the window does not reach back to the question (more
   * than {@value #WINDOW_SLACK} completed messages arrived after it, e.g. a regenerate of an old reply)
   * are the question and the history read the way {@link #loadHistory} reads them.
   */
  @Override
  public Future<ReplyClaim> claimReply(String messageId, String sessionId, String workerId, long leaseMillis, int historyLimit) {
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    if (workerId == null || workerId.isBlank() || leaseMillis <= 0 || historyLimit < 0) {
      return invalid("workerId, a positive leaseMillis and a historyLimit are required");
    }
    int window = historyLimit + 1 + WINDOW_SLACK;
    boolean ahead = isId(sessionId);
    Future<JsonObject> claim = findAndUpdate(MESSAGES, claimFilter(messageId, now()), claimUpdate(workerId, leaseMillis));
    Future<JsonObject> sessionAhead = ahead
        ? mongo.findOne(SESSIONS, new JsonObject().put("_id", oid(sessionId)), null) : null;
    Future<List<JsonObject>> windowAhead = ahead ? newestCompleted(oid(sessionId), null, window) : null;
    return claim
        .compose(doc -> {
          if (doc == null) {
            return notClaimed(messageId).map(c -> new ReplyClaim(false, c.message(), null, null, null));
          }
          Object sid = doc.getValue("chatSessionId");
          boolean same = ahead && sessionId.equals(MongoDocs.id(sid));
          Future<JsonObject> session = same ? sessionAhead : mongo.findOne(SESSIONS, new JsonObject().put("_id", sid), null);
          Future<List<JsonObject>> newest = same ? windowAhead
              : newestCompleted(sid, MongoDocs.instant(doc.getValue("createdAt")), window);
          return Future.all(session, newest).compose(both -> withContext(doc, workerId, both.resultAt(0),
              both.resultAt(1), window, historyLimit));
        })
        .recover(err -> MongoFailures.classify("claimReply", err));
  }

  /** The session's newest completed user and ai_report messages, newest first (created no later than {@code until}). */
  private Future<List<JsonObject>> newestCompleted(Object sessionOid, Instant until, int n) {
    JsonObject query = new JsonObject()
        .put("chatSessionId", sessionOid)
        .put("messageType", new JsonObject().put("$in", new JsonArray().add(USER).add(AI_REPORT)))
        .put("status", COMPLETED);
    if (until != null) {
      query.put("createdAt", new JsonObject().put("$lte", date(until)));
    }
    return mongo.findWithOptions(MESSAGES, query, new FindOptions()
        .setSort(new JsonObject().put("createdAt", -1).put("_id", -1)).setLimit(Math.max(1, n)));
  }

  private Future<ReplyClaim> withContext(JsonObject doc, String workerId, JsonObject session,
      List<JsonObject> newest, int window, int historyLimit) {
    Object userId = doc.getValue("userId");
    if (session == null || !MongoDocs.id(userId).equals(MongoDocs.id(session.getValue("userId")))) {
      return dropOrphan(doc).map(v -> new ReplyClaim(false, null, null, null, null));
    }
    return claimed(doc, workerId).compose(c -> {
      if (!c.claimed()) {
        return Future.succeededFuture(new ReplyClaim(false, c.message(), null, null, null));
      }
      ChatMessage reply = c.message();
      ChatSession s = MongoDocs.session(session);
      int at = -1;
      for (int i = 0; i < newest.size(); i++) {
        if (MongoDocs.id(newest.get(i).getValue("_id")).equals(reply.replyTo())) {
          at = i;
          break;
        }
      }
      boolean complete = at >= 0 && (newest.size() < window || newest.size() - at - 1 >= historyLimit);
      if (!complete) {
        // the window does not reach back far enough: the question and the history, read as loadHistory does
        return ownedMessage(reply.userId(), reply.sessionId(), reply.replyTo())
            .map(MongoDocs::message)
            .compose(q -> loadHistory(reply.sessionId(), q.createdAt(), q.id(), historyLimit)
                .map(h -> new ReplyClaim(true, reply, q, h, s)));
      }
      List<ChatMessage> history = newest.subList(at + 1, Math.min(newest.size(), at + 1 + historyLimit)).stream()
          .map(MongoDocs::message).toList();
      return Future.succeededFuture(new ReplyClaim(true, reply, MongoDocs.message(newest.get(at)), history, s));
    });
  }

  /** A pending reply that is due, or a processing one whose lease expired. */
  private JsonObject claimFilter(String messageId, Instant now) {
    return new JsonObject()
        .put("_id", oid(messageId))
        .put("messageType", AI_REPORT)
        .put("$or", new JsonArray()
            .add(new JsonObject().put("status", PENDING)
                .put("notBefore", new JsonObject().put("$exists", false)))
            .add(new JsonObject().put("status", PENDING)
                .put("notBefore", new JsonObject().put("$lte", date(now))))
            .add(new JsonObject().put("status", PROCESSING)
                .put("leaseUntil", new JsonObject().put("$lt", date(now)))));
  }

  private JsonObject claimUpdate(String workerId, long leaseMillis) {
    Instant now = now();
    return new JsonObject()
        .put("$set", new JsonObject()
            .put("status", PROCESSING)
            .put("leaseOwner", workerId)
            .put("leaseUntil", date(now.plusMillis(leaseMillis)))
            .put("updatedAt", date(now)))
        .put("$unset", new JsonObject().put("notBefore", ""))
        .put("$inc", new JsonObject().put("attempts", 1));
  }

  /**
   * A send that raced its session's delete can store its pair after the delete removed the session's
   * messages. Such a reply is dropped here, before any model call, with whatever else was left under
   * the session; the sweep brings every such leftover pending reply to a claim.
   */
  private Future<ClaimResult> sessionStillThere(JsonObject doc, String workerId) {
    Object sessionId = doc.getValue("chatSessionId");
    Object userId = doc.getValue("userId");
    return mongo
        .findOne(SESSIONS, new JsonObject().put("_id", sessionId).put("userId", userId), new JsonObject().put("_id", 1))
        .compose(session -> session != null
            ? claimed(doc, workerId)
            : dropOrphan(doc).map(v -> new ClaimResult(false, null)));
  }

  /** Drops a claimed reply whose session was deleted, with whatever else was left under that session. */
  private Future<Void> dropOrphan(JsonObject doc) {
    Object sessionId = doc.getValue("chatSessionId");
    log.info("reply {}: its session {} was deleted; dropped without generating",
        MongoDocs.id(doc.getValue("_id")), MongoDocs.id(sessionId));
    return mongo
        .removeDocuments(MESSAGES, new JsonObject().put("chatSessionId", sessionId).put("userId", doc.getValue("userId")))
        .mapEmpty();
  }

  private Future<ClaimResult> notClaimed(String messageId) {
    return mongo
        .findOne(MESSAGES, new JsonObject().put("_id", oid(messageId)), null)
        .map(doc -> new ClaimResult(false, doc == null ? null : MongoDocs.message(doc)));
  }

  /** A claim of a reply whose cancel was requested ends it as cancelled instead of generating. */
  private Future<ClaimResult> claimed(JsonObject doc, String workerId) {
    ChatMessage message = MongoDocs.message(doc);
    if (!doc.getBoolean("cancelRequested", false)) {
      publishMessage(MessageEvent.PROCESSING, message);
      return Future.succeededFuture(new ClaimResult(true, message));
    }
    JsonObject undone = continueUndone(doc, CONTINUE_CANCELLED);
    return leaseGuarded(message.id(), workerId,
            undone != null ? undone : finalUpdate(CANCELLED, new JsonObject()), "cancelled")
        .onSuccess(m -> publishMessage(MessageEvent.CANCELLED, m))
        .map(m -> new ClaimResult(false, m));
  }

  @Override
  public Future<List<ChatMessage>> loadHistory(
      String sessionId, Instant beforeCreatedAt, String beforeId, int limit) {
    if (!isId(sessionId)) {
      return notFound("session not found");
    }
    if (beforeId != null && !isId(beforeId)) {
      return invalid("beforeId must be a 24-hex id");
    }
    JsonObject query =
        new JsonObject()
            .put("chatSessionId", oid(sessionId))
            .put("messageType", new JsonObject().put("$in", new JsonArray().add(USER).add(AI_REPORT)))
            .put("status", COMPLETED);
    SortKey from = null;
    if (beforeCreatedAt != null && beforeId != null) {
      from = new SortKey(beforeCreatedAt, beforeId);
    } else if (beforeCreatedAt != null) {
      query.put("createdAt", new JsonObject().put("$lt", date(beforeCreatedAt)));
    }
    // newest first from just before the question: reads about `limit` documents (SortedWalk)
    return SortedWalk.beyond(mongo, MESSAGES, query, from, null, false, limit)
        .map(docs -> docs.stream().map(MongoDocs::message).toList())
        .recover(err -> MongoFailures.classify("loadHistory", err));
  }

  @Override
  public Future<CheckpointResult> checkpointGeneration(
      String messageId, String workerId, String partialContent, long leaseMillis) {
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    Instant now = now();
    JsonObject set = new JsonObject()
        .put("leaseUntil", date(now.plusMillis(Math.max(1, leaseMillis))))
        .put("updatedAt", date(now));
    if (partialContent != null) {
      set.put("content", partialContent);
    }
    return findAndUpdate(MESSAGES, leaseFilter(messageId, workerId), new JsonObject().put("$set", set))
        .map(doc -> doc == null
            ? new CheckpointResult(false, false)
            : new CheckpointResult(true, doc.getBoolean("cancelRequested", false)))
        .recover(err -> MongoFailures.classify("checkpointGeneration", err));
  }

  @Override
  public Future<ChatMessage> completeGeneration(String messageId, String workerId, Completion completion) {
    if (completion == null) {
      return invalid("completion is required");
    }
    JsonObject set = new JsonObject().put("content", completion.content() == null ? "" : completion.content());
    putIfPresent(set, "model", completion.model());
    putIfPresent(set, "usage", completion.usage() == null ? null : completion.usage().toJson());
    putIfPresent(set, "stopReason", completion.stopReason());
    putIfPresent(set, "context", completion.context() == null ? null : completion.context().toJson());
    // Marked in the final write itself: a crash before the ledger increment leaves the mark for recovery.
    putIfPresent(set, MongoUsageLedger.MARKER, completion.usage() == null ? null : MongoUsageLedger.MARKER_DUE);
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    // The session jobs a completed exchange starts are enqueued before the reply's final write (see
    // MongoSessionJobStore#beforeReplyCompletes) and handed to a worker after it. With no kind enqueued
    // automatically (titles off) there is nothing to enqueue and no session to look up: the completion
    // is the final write and the ledger increment (docs/architecture.md §5).
    Future<List<com.aichat.contract.SessionJobRequest>> before = !sessionJobs.enqueuesOnCompletion()
        ? Future.succeededFuture(List.of())
        : mongo.findOne(MESSAGES, leaseFilter(messageId, workerId), new JsonObject().put("chatSessionId", 1))
            .compose(doc -> doc == null
                ? Future.succeededFuture(List.<com.aichat.contract.SessionJobRequest>of())
                : sessionJobs.beforeReplyCompletes(doc.getValue("chatSessionId")));
    return before
        .compose(jobs -> leaseGuarded(messageId, workerId, finalUpdate(COMPLETED, set), "completed")
            .compose(m -> ledger.recordBatched(m)
                .recover(err -> {
                  log.warn("reply {}: usage ledger not updated yet ({}); recovery will add it", messageId,
                      err.toString());
                  return Future.succeededFuture();
                })
                .map(m))
            .onSuccess(m -> publishMessage(MessageEvent.COMPLETED, m))
            .onComplete(ar -> sessionJobs.send(jobs)))
        .recover(err -> MongoFailures.classify("completeGeneration", err));
  }

  @Override
  public Future<ChatMessage> failGeneration(String messageId, String workerId, ErrorInfo error) {
    if (error == null) {
      return invalid("error is required");
    }
    JsonObject set = new JsonObject()
        .put("messageType", MessageType.AI_ERROR.wire())
        .put("error", error.toJson());
    return endLeased(messageId, workerId, finalUpdate(MessageStatus.FAILED.wire(), set), error, "failed")
        .onSuccess(m -> publishMessage(MessageEvent.FAILED, m))
        .recover(err -> MongoFailures.classify("failGeneration", err));
  }

  @Override
  public Future<ChatMessage> releaseForRetry(
      String messageId, String workerId, Instant notBefore, ErrorInfo lastError) {
    Instant now = now();
    JsonObject set = new JsonObject().put("status", PENDING).put("updatedAt", date(now));
    JsonObject unset = new JsonObject().put("leaseOwner", "").put("leaseUntil", "");
    if (notBefore != null) {
      set.put("notBefore", date(notBefore));
    } else {
      unset.put("notBefore", "");
    }
    putIfPresent(set, "lastError", lastError == null ? null : lastError.toJson());
    JsonObject update = new JsonObject().put("$set", set).put("$unset", unset);
    return leaseGuarded(messageId, workerId, update, "released")
        .recover(err -> MongoFailures.classify("releaseForRetry", err));
  }

  @Override
  public Future<ChatMessage> cancelGeneration(String messageId, String workerId, String partialContent) {
    JsonObject set = new JsonObject();
    putIfPresent(set, "content", partialContent);
    return endLeased(messageId, workerId, finalUpdate(CANCELLED, set), CONTINUE_CANCELLED, "cancelled")
        .onSuccess(m -> publishMessage(MessageEvent.CANCELLED, m))
        .recover(err -> MongoFailures.classify("cancelGeneration", err));
  }

  // ---- a continue that ends without completing ---------------------------------------------------

  /** Recorded as {@code lastContinueError} when a continue is cancelled. */
  private static final ErrorInfo CONTINUE_CANCELLED =
      new ErrorInfo("cancelled", "The continuation was cancelled; the reply is as it was before it.");

  /**
   * Ends a processing reply whose lease {@code workerId} holds: with {@code update} (failed or
   * cancelled), unless the generation is a continue, which instead returns the reply to its
   * pre-continue state ({@link #continueUndone}).
   */
  private Future<ChatMessage> endLeased(
      String messageId, String workerId, JsonObject update, ErrorInfo continueError, String what) {
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    if (workerId == null) {
      return invalid("workerId is required");
    }
    JsonObject fields = new JsonObject().put("content", 1).put("continueOffset", 1);
    // only the lease holder (this caller) writes content and continueOffset, so the read stays valid
    return mongo.findOne(MESSAGES, leaseFilter(messageId, workerId), fields)
        .compose(doc -> {
          JsonObject undone = doc == null ? null : continueUndone(doc, continueError);
          return leaseGuarded(messageId, workerId, undone != null ? undone : update, what);
        });
  }

  /**
   * The update returning a reply whose continue failed or was cancelled to the state it was continued
   * from (docs/versions.md): a completed {@code ai_report} with its text cut back to
   * {@code continueOffset} and {@code stopReason} {@code max_tokens} (only such a reply can be
   * continued), with {@code lastContinueError} {@code {code, message, at}} beside it; {@code model},
   * {@code usage} and {@code context} were never cleared by the continue. So the answer stays visible,
   * stays in later context and can be continued again. Null when {@code doc} is not a continue.
   */
  private JsonObject continueUndone(JsonObject doc, ErrorInfo why) {
    Integer offset = doc.getInteger("continueOffset");
    if (offset == null) {
      return null;
    }
    String content = doc.getString("content", "");
    JsonObject set = new JsonObject()
        .put("messageType", AI_REPORT)
        .put("content", content.substring(0, Math.min(content.length(), Math.max(0, offset))))
        .put("stopReason", MongoMessageControls.MAX_TOKENS)
        .put(MongoDocs.LAST_CONTINUE_ERROR, why.toJson().put("at", now().toString()));
    JsonObject update = finalUpdate(COMPLETED, set);
    update.getJsonObject("$unset").put("error", "").put("lastError", "").put("cancelRequested", "");
    return update;
  }

  // ---- lease guard ------------------------------------------------------------------------------

  /** A write matching only while {@code workerId} holds the lease of a processing reply; else CONFLICT. */
  private Future<ChatMessage> leaseGuarded(String messageId, String workerId, JsonObject update, String what) {
    if (!isId(messageId)) {
      return notFound("message not found");
    }
    if (workerId == null) {
      return invalid("workerId is required");
    }
    return findAndUpdate(MESSAGES, leaseFilter(messageId, workerId), update)
        .compose(doc -> doc == null
            ? Future.failedFuture(ErrorCode.CONFLICT.failure("the lease is not held; reply not " + what))
            : Future.succeededFuture(MongoDocs.message(doc)));
  }

  static JsonObject leaseFilter(String messageId, String workerId) {
    return new JsonObject()
        .put("_id", oid(messageId))
        .put("status", PROCESSING)
        .put("leaseOwner", workerId);
  }

  /** Sets a final status plus {@code set}, and clears the lease and scheduling fields. */
  private JsonObject finalUpdate(String status, JsonObject set) {
    set.put("status", status).put("updatedAt", date(now()));
    return new JsonObject()
        .put("$set", set)
        .put("$unset", new JsonObject()
            .put("leaseOwner", "")
            .put("leaseUntil", "")
            .put("notBefore", "")
            .put("continueOffset", "")
            .put(MongoSendAdmission.PENDING_SLOT, ""));
  }

}
