package com.aichat.persistence.impl;

import com.aichat.persistence.StoreChanges;
import static com.aichat.persistence.impl.MongoChatStore.MESSAGES;
import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.contract.ChatMessage;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.persistence.Conversations.SendLimits;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regenerate, continue, edit and feedback (docs/versions.md) on {@link MongoChatStore}'s messages.
 * A new generation of an existing reply is one conditional {@code findOneAndUpdate} of the reply
 * document, from a final state back to {@code pending}: the earlier version is pushed onto
 * {@code versions}, the request's {@code clientMessageId} onto {@code controlRequestIds} (its
 * idempotency key, never rendered), and a pending slot and a quota unit are taken as for a send. The
 * claim, lease, sweep and cancel then treat it like any pending reply.
 */
final class MongoMessageControls extends MongoStoreSupport {

  private static final Logger log = LoggerFactory.getLogger(MongoMessageControls.class);

  /** The reply field holding the clientMessageIds of regenerates, continues and edits already applied. */
  static final String REQUEST_IDS = "controlRequestIds";
  /** When the current version (or the user message's current text) started; internal. */
  static final String VERSION_STARTED_AT = "versionStartedAt";
  static final String MAX_TOKENS = "max_tokens";

  private final MongoSendAdmission admission;

  /** What a new generation does to the reply's text. */
  private enum Kind { REGENERATE, CONTINUE }

  /** A free pending slot list (null: no cap) and a reserved quota unit. */
  private record Admitted(List<String> slots, MongoSendAdmission.QuotaUnit unit) {}

  MongoMessageControls(
      Vertx vertx, MongoClient mongo, Clock clock, MongoSendAdmission admission, StoreChanges changes) {
    super(vertx, mongo, clock, changes);
    this.admission = admission;
  }

  // ---- regenerate / continue --------------------------------------------------------------------

  Future<SendResult> regenerate(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits, int maxVersions) {
    return ownedMessage(userId, sessionId, messageId)
        .compose(doc -> {
          MessageType type = MessageType.fromWire(doc.getString("messageType"));
          if (type != MessageType.AI_REPORT && type != MessageType.AI_ERROR) {
            return wrongType("only an AI reply (ai_report or ai_error) can be regenerated");
          }
          if (isReplay(doc, clientMessageId)) {
            return pairOf(doc, false);
          }
          if (inFlight(doc)) {
            return inProgress();
          }
          if (doc.getInteger("version", 1) >= maxVersions) {
            return tooManyVersions(maxVersions);
          }
          return admit(userId, limits)
              .compose(a -> restart(doc, Kind.REGENERATE, clientMessageId, a, 0));
        })
        .recover(err -> MongoFailures.classify("regenerate", err));
  }

  Future<SendResult> continueReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits, int maxContinues) {
    return ownedMessage(userId, sessionId, messageId)
        .compose(doc -> {
          MessageType type = MessageType.fromWire(doc.getString("messageType"));
          if (type != MessageType.AI_REPORT && type != MessageType.AI_ERROR) {
            return wrongType("only an AI reply can be continued");
          }
          if (isReplay(doc, clientMessageId)) {
            return pairOf(doc, false);
          }
          if (inFlight(doc)) {
            return inProgress();
          }
          if (type != MessageType.AI_REPORT || !COMPLETED.equals(doc.getString("status"))
              || !MAX_TOKENS.equals(doc.getString("stopReason"))) {
            return Future.failedFuture(ErrorCode.NOT_CONTINUABLE.failure(
                "only a completed reply that stopped at max_tokens can be continued"));
          }
          if (doc.getInteger(MongoDocs.CONTINUES, 0) >= maxContinues) {
            return Future.failedFuture(ErrorCode.TOO_MANY_CONTINUES.failure(
                "this reply has already been continued the most times allowed (" + maxContinues + ")"));
          }
          return admit(userId, limits)
              .compose(a -> restart(doc, Kind.CONTINUE, clientMessageId, a, 0));
        })
        .recover(err -> MongoFailures.classify("continueReply", err));
  }

  // ---- edit -------------------------------------------------------------------------------------

  /**
   * Edits the session's last user message and regenerates its reply. The reply's conditional restart
   * is written first and decides any race for the turn; the user message is rewritten only by its
   * winner. If the rewrite then fails (or the process dies in between), a retry with the same
   * {@code clientMessageId} finds the reply restarted and rewrites the user message.
   */
  Future<SendResult> editMessage(
      String userId, String sessionId, String messageId, String content, String clientMessageId,
      SendLimits limits, int maxVersions) {
    if (content == null) {
      return invalid("content is required");
    }
    return ownedMessage(userId, sessionId, messageId)
        .compose(user -> {
          if (!USER.equals(user.getString("messageType"))) {
            return wrongType("only a user message can be edited");
          }
          return mongo.findOne(MESSAGES, new JsonObject().put("replyTo", oid(messageId))
                  .put("chatSessionId", oid(sessionId)), null)
              .compose(reply -> reply == null
                  ? Future.failedFuture(ErrorCode.CONFLICT.failure("this message has no reply to regenerate"))
                  : edit(user, reply, content, clientMessageId, limits, maxVersions));
        })
        .recover(err -> MongoFailures.classify("editMessage", err));
  }

  private Future<SendResult> edit(
      JsonObject user, JsonObject reply, String content, String clientMessageId, SendLimits limits, int maxVersions) {
    if (isReplay(user, clientMessageId)) {
      // the edit was applied; its reply may not have been restarted yet (a crash in between)
      if (isReplay(reply, clientMessageId) || inFlight(reply)) {
        return pairOf(reply, false);
      }
      return admit(MongoDocs.id(user.getValue("userId")), limits)
          .compose(a -> restart(reply, Kind.REGENERATE, clientMessageId, a, 0));
    }
    if (isReplay(reply, clientMessageId)) {
      // the reply was restarted for this edit, the user message not rewritten yet (a crash in between)
      return rewriteUserMessage(user, content, clientMessageId).compose(edited -> pairOf(reply, false));
    }
    if (inFlight(reply)) {
      return inProgress();
    }
    if (user.getInteger("version", 1) >= maxVersions || reply.getInteger("version", 1) >= maxVersions) {
      return tooManyVersions(maxVersions);
    }
    // The reply's conditional restart decides the race with a regenerate (or another edit) of the same
    // turn: only its winner writes the user message, so a 409 means nothing was applied. The reply is
    // dispatched only after both writes (by the caller), so its context already has the new text.
    return laterUserMessage(user)
        .compose(later -> later
            ? Future.failedFuture(ErrorCode.NOT_LAST_MESSAGE.failure(
                "only the session's last user message can be edited"))
            : admit(MongoDocs.id(user.getValue("userId")), limits)
                .compose(a -> restart(reply, Kind.REGENERATE, clientMessageId, a, 0))
                .compose(restarted -> !restarted.created()
                    ? Future.succeededFuture(restarted) // an identical concurrent request won; it writes the edit
                    : rewriteUserMessage(user, content, clientMessageId)
                        .map(edited -> new SendResult(MongoDocs.message(edited), restarted.reply(), true))));
  }

  private Future<Boolean> laterUserMessage(JsonObject user) {
    JsonObject query = and(
        new JsonObject().put("chatSessionId", user.getValue("chatSessionId")).put("messageType", USER),
        MongoDocs.beyond("createdAt", new MongoDocs.SortKey(MongoDocs.instant(user.getValue("createdAt")),
            MongoDocs.id(user.getValue("_id"))), true));
    return mongo.findOne(MESSAGES, query, new JsonObject().put("_id", 1)).map(d -> d != null);
  }

  private Future<JsonObject> rewriteUserMessage(JsonObject user, String content, String clientMessageId) {
    Instant now = now();
    int version = user.getInteger("version", 1);
    JsonObject earlier = new JsonObject()
        .put("version", version)
        .put("content", user.getString("content", ""))
        .put("createdAt", iso(user.getValue(VERSION_STARTED_AT), user.getValue("createdAt")))
        .put("replacedAt", now.toString());
    JsonObject push = new JsonObject().put("versions", earlier);
    if (clientMessageId != null) {
      push.put(REQUEST_IDS, clientMessageId);
    }
    JsonObject update = new JsonObject()
        .put("$set", new JsonObject().put("content", content).put("version", version + 1)
            .put(VERSION_STARTED_AT, date(now)).put("updatedAt", date(now)))
        .put("$push", push);
    JsonObject query = new JsonObject().put("_id", user.getValue("_id"))
        .put("updatedAt", user.getValue("updatedAt")).put("version", versionMatch(user));
    return findAndUpdate(MESSAGES, query, update).compose(doc -> {
      if (doc == null) {
        return Future.failedFuture(ErrorCode.CONFLICT.failure("the message changed; try again"));
      }
      publishMessage(MessageEvent.UPDATED, MongoDocs.message(doc));
      return Future.succeededFuture(doc);
    });
  }

  // ---- feedback ---------------------------------------------------------------------------------

  /** Sets ({@code rating} up or down) or clears ({@code rating} null) the reply's feedback. */
  Future<ChatMessage> setFeedback(String userId, String sessionId, String messageId, String rating, String comment) {
    return ownedMessage(userId, sessionId, messageId)
        .compose(doc -> {
          MessageType type = MessageType.fromWire(doc.getString("messageType"));
          if (type != MessageType.AI_REPORT && type != MessageType.AI_ERROR) {
            return wrongType("feedback is given on an AI reply (ai_report or ai_error)");
          }
          if (inFlight(doc)) {
            return inProgress();
          }
          Instant now = now();
          JsonObject update;
          if (rating == null) {
            update = new JsonObject()
                .put("$unset", new JsonObject().put("feedback", ""))
                .put("$set", new JsonObject().put("updatedAt", date(now)));
          } else {
            JsonObject feedback = new JsonObject().put("rating", rating);
            if (comment != null) {
              feedback.put("comment", comment);
            }
            feedback.put("updatedAt", now.toString());
            update = new JsonObject().put("$set", new JsonObject().put("feedback", feedback).put("updatedAt", date(now)));
          }
          JsonObject query = new JsonObject().put("_id", doc.getValue("_id"))
              .put("status", new JsonObject().put("$in", new JsonArray()
                  .add(COMPLETED).add(MessageStatus.FAILED.wire()).add(CANCELLED)));
          return findAndUpdate(MESSAGES, query, update);
        })
        .compose(doc -> {
          if (doc == null) {
            return inProgress();
          }
          ChatMessage m = MongoDocs.message(doc);
          publishMessage(MessageEvent.UPDATED, m);
          return Future.succeededFuture(m);
        })
        .recover(err -> MongoFailures.classify("setFeedback", err));
  }

  // ---- the restart ------------------------------------------------------------------------------

  private Future<Admitted> admit(String userId, SendLimits limits) {
    SendLimits l = limits == null ? SendLimits.NONE : limits;
    return admission.freeSlots(userId, l)
        .compose(slots -> admission.reserveQuota(userId, l).map(unit -> new Admitted(slots, unit)));
  }

  /**
   * One conditional write from the state read ({@code status}, {@code attempts}, {@code updatedAt}
   * unchanged) to {@code pending}. A concurrent identical request that won is answered as a replay; a
   * taken pending slot tries the next one. Whatever stores nothing gives the quota unit back.
   */
  private Future<SendResult> restart(JsonObject doc, Kind kind, String clientMessageId, Admitted a, int next) {
    if (a.slots() != null && next >= a.slots().size()) {
      return refundQuietly(a.unit()).compose(v -> MongoSendAdmission.tooManyPending(a.slots().size()));
    }
    Instant now = now();
    int attempts = doc.getInteger("attempts", 0);
    JsonObject set = new JsonObject()
        .put("status", PENDING)
        .put("messageType", AI_REPORT)
        .put("attemptsBase", attempts)
        .put("updatedAt", date(now));
    JsonObject unset = new JsonObject()
        .put("cancelRequested", "").put("notBefore", "").put("lastError", "")
        .put("leaseOwner", "").put("leaseUntil", "").put("stopReason", "")
        .put(MongoDocs.LAST_CONTINUE_ERROR, "");
    JsonObject push = new JsonObject();
    JsonObject inc = new JsonObject();
    if (kind == Kind.REGENERATE) {
      int version = doc.getInteger("version", 1);
      set.put("content", "").put("version", version + 1).put(VERSION_STARTED_AT, date(now));
      unset.put("error", "").put("usage", "").put("model", "").put("context", "")
          .put("continueOffset", "").put("feedback", "").put(MongoDocs.CONTINUES, "");
      push.put("versions", versionEntry(doc, version));
    } else {
      // a failed or cancelled continue cuts the text back to this length (MongoGenerationStore)
      set.put("continueOffset", doc.getString("content", "").length());
      inc.put(MongoDocs.CONTINUES, 1);
    }
    if (a.slots() != null) {
      set.put(MongoSendAdmission.PENDING_SLOT, a.slots().get(next));
    }
    if (clientMessageId != null) {
      push.put(REQUEST_IDS, clientMessageId);
    }
    JsonObject update = new JsonObject().put("$set", set).put("$unset", unset);
    if (!push.isEmpty()) {
      update.put("$push", push);
    }
    if (!inc.isEmpty()) {
      update.put("$inc", inc);
    }
    JsonObject query = new JsonObject()
        .put("_id", doc.getValue("_id"))
        .put("status", doc.getString("status"))
        .put("attempts", attempts)
        .put("updatedAt", doc.getValue("updatedAt"));
    return findAndUpdate(MESSAGES, query, update)
        .recover(err -> a.slots() != null && MongoFailures.isDuplicateKey(err)
            ? Future.succeededFuture(new JsonObject().put("__slotTaken", true))
            : Future.failedFuture(err))
        .compose(updated -> {
          if (updated != null && updated.getBoolean("__slotTaken", false)) {
            return restart(doc, kind, clientMessageId, a, next + 1);
          }
          if (updated == null) {
            return refundQuietly(a.unit()).compose(v -> lostRace(doc, clientMessageId));
          }
          ChatMessage reply = MongoDocs.message(updated);
          log.info("reply {}: {} requested, version {}", reply.id(), kind, reply.revisions().version());
          publishMessage(MessageEvent.UPDATED, reply);
          return pairOf(updated, true);
        });
  }

  /** The reply changed between the read and the write: a concurrent identical request is a replay. */
  private Future<SendResult> lostRace(JsonObject doc, String clientMessageId) {
    return mongo.findOne(MESSAGES, new JsonObject().put("_id", doc.getValue("_id")), null)
        .compose(now -> now != null && isReplay(now, clientMessageId)
            ? pairOf(now, false)
            : Future.failedFuture(ErrorCode.GENERATION_IN_PROGRESS.failure(
                "the reply changed meanwhile (another generation started); reload it")));
  }

  private static JsonObject versionEntry(JsonObject doc, int version) {
    JsonObject e = new JsonObject()
        .put("version", version)
        .put("content", doc.getString("content", ""))
        .put("messageType", doc.getString("messageType"))
        .put("status", doc.getString("status"));
    for (String f : List.of("model", "usage", "stopReason", "error", "context", "feedback",
        MongoDocs.LAST_CONTINUE_ERROR)) {
      if (doc.getValue(f) != null) {
        e.put(f, doc.getValue(f));
      }
    }
    e.put("attempts", doc.getInteger("attempts", 0) - doc.getInteger("attemptsBase", 0));
    e.put("createdAt", iso(doc.getValue(VERSION_STARTED_AT), doc.getValue("createdAt")));
    e.put("completedAt", iso(doc.getValue("updatedAt"), null));
    return e;
  }

  /** The reply (or a message's reply) with its question. */
  private Future<SendResult> pairOf(JsonObject reply, boolean created) {
    ChatMessage r = MongoDocs.message(reply);
    return mongo.findOne(MESSAGES, new JsonObject().put("_id", reply.getValue("replyTo")), null)
        .compose(q -> q == null
            ? Future.failedFuture(ErrorCode.CONFLICT.failure("the reply's question no longer exists"))
            : Future.succeededFuture(new SendResult(MongoDocs.message(q), r, created)));
  }

  private static boolean isReplay(JsonObject doc, String clientMessageId) {
    JsonArray ids = doc.getJsonArray(REQUEST_IDS);
    return clientMessageId != null && ids != null && ids.contains(clientMessageId);
  }

  private static boolean inFlight(JsonObject doc) {
    String s = doc.getString("status");
    return PENDING.equals(s) || PROCESSING.equals(s);
  }

  /** Matches the stored version, including documents from before versions (no field: version 1). */
  private static Object versionMatch(JsonObject doc) {
    Integer v = doc.getInteger("version");
    return v == null ? new JsonObject().put("$exists", false) : v;
  }

  private static String iso(Object stored, Object fallback) {
    Instant t = MongoDocs.instant(stored);
    if (t == null) {
      t = MongoDocs.instant(fallback);
    }
    return t == null ? null : t.toString();
  }

  private Future<Void> refundQuietly(MongoSendAdmission.QuotaUnit unit) {
    return admission.refund(unit).recover(err -> {
      log.warn("quota unit {} not given back: {}", unit.counterId(), err.toString());
      return Future.succeededFuture();
    });
  }

  private static <T> Future<T> wrongType(String message) {
    return Future.failedFuture(ErrorCode.WRONG_MESSAGE_TYPE.failure(message));
  }

  private static <T> Future<T> inProgress() {
    return Future.failedFuture(ErrorCode.GENERATION_IN_PROGRESS.failure(
        "a generation of this reply is pending or running; wait for it to end or cancel it"));
  }

  private static <T> Future<T> tooManyVersions(int max) {
    return Future.failedFuture(ErrorCode.TOO_MANY_VERSIONS.failure(
        "this message already has the most versions allowed (" + max + ")"));
  }
}
