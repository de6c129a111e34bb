package com.aichat.persistence;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Ids;
import com.aichat.contract.Json;
import com.aichat.contract.ServiceFailure;
import com.aichat.contract.SessionJobKind;
import com.aichat.persistence.ChatStore.Completion;
import com.aichat.persistence.ChatStore.SendLimits;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@link ChatStore} on {@link Addresses#PERSISTENCE}: decodes the action and arguments written
 * by {@link ChatStoreClient}, calls the store, and replies with the JSON form or fails with the
 * {@link ErrorCode} failure code. Unexpected failures are logged here and reach the caller only as
 * {@code INTERNAL} with no driver text.
 */
public final class ChatStoreBusHandler implements Handler<Message<JsonObject>> {

  private static final Logger log = LoggerFactory.getLogger(ChatStoreBusHandler.class);

  /** The request fields that hold ObjectIds. */
  private static final List<String> ID_FIELDS =
      List.of("userId", "sessionId", "messageId", "teamId", "beforeId", "afterId");

  private final ChatStore store;

  public ChatStoreBusHandler(ChatStore store) {
    this.store = store;
  }

  @Override
  public void handle(Message<JsonObject> msg) {
    String action = msg.headers().get(Addresses.ACTION_HEADER);
    Future<Object> result;
    try {
      result = dispatch(action == null ? "" : action, normalizeIds(msg.body()));
    } catch (RuntimeException e) {
      // A malformed request from a caller inside the service (bad date, wrong type).
      result = Future.failedFuture(ErrorCode.VALIDATION_FAILED.failure("malformed persistence request"));
    }
    result.onSuccess(msg::reply).onFailure(err -> fail(msg, action, err));
  }

  /**
   * The bus boundary of the id rule ({@link Ids}): a caller on another node may send an id in upper
   * case; the store, its events and the gateway's rooms all use the lower-case form.
   */
  static JsonObject normalizeIds(JsonObject body) {
    if (body == null) {
      return new JsonObject();
    }
    JsonObject a = body;
    for (String field : ID_FIELDS) {
      if (a.getValue(field) instanceof String s && Ids.isObjectId(s) && !s.equals(Ids.lowerIfId(s))) {
        a = a == body ? body.copy() : a;
        a.put(field, Ids.lowerIfId(s));
      }
    }
    return a;
  }

  private static void fail(Message<JsonObject> msg, String action, Throwable err) {
    if (err instanceof ServiceFailure sf) {
      msg.fail(sf.failureCode(), sf.getMessage());
      return;
    }
    log.error("persistence action {} failed unexpectedly", action, err);
    msg.fail(ErrorCode.INTERNAL.failureCode(), "internal error");
  }

  @SuppressWarnings("unchecked")
  private Future<Object> dispatch(String action, JsonObject a) {
    Future<?> f =
        switch (action) {
          case "createSession" -> store
              .createSession(a.getString("userId"), a.getString("teamId"), a.getString("title"))
              .map(s -> s.toJson());
          case "listSessions" -> store
              .listSessions(
                  a.getString("userId"),
                  a.getString("teamId"),
                  a.getInteger("limit"),
                  a.getString("cursor"))
              .map(p -> p.toJson(s -> s.toJson()));
          case "getSession" -> store
              .getSession(a.getString("userId"), a.getString("sessionId"))
              .map(s -> s.toJson());
          case "renameSession" -> store
              .renameSession(a.getString("userId"), a.getString("sessionId"), a.getString("title"))
              .map(s -> s.toJson());
          case "deleteSession" -> store
              .deleteSession(a.getString("userId"), a.getString("sessionId"))
              .map(v -> new JsonObject());
          case "sendMessage" -> store
              .sendMessage(
                  a.getString("userId"),
                  a.getString("sessionId"),
                  a.getString("content"),
                  a.getString("clientMessageId"),
                  SendLimits.fromJson(a.getJsonObject("limits")))
              .map(r -> r.toJson());
          case "findSend" -> store
              .findSend(a.getString("userId"), a.getString("sessionId"), a.getString("clientMessageId"))
              .map(r -> r.toJson());
          case "listMessages" -> store
              .listMessages(
                  a.getString("userId"),
                  a.getString("sessionId"),
                  a.getString("after"),
                  a.getString("before"),
                  a.getInteger("limit"))
              .map(p -> p.toJson(ChatMessage::toJson));
          case "getMessage" -> store
              .getMessage(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"))
              .map(ChatMessage::toJson);
          case "countUserMessagesSince" -> store
              .countUserMessagesSince(a.getString("userId"), Json.instant(a, "since"))
              .map(n -> new JsonObject().put("count", n));
          case "lookupUserField" -> store.lookupUserField(
              a.getString("collection"),
              a.getString("idField"),
              a.getString("userId"),
              a.getString("fieldPath"));
          case "regenerateReply" -> store
              .regenerateReply(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"),
                  a.getString("clientMessageId"), SendLimits.fromJson(a.getJsonObject("limits")),
                  a.getInteger("maxVersions", Integer.MAX_VALUE))
              .map(r -> r.toJson());
          case "continueReply" -> store
              .continueReply(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"),
                  a.getString("clientMessageId"), SendLimits.fromJson(a.getJsonObject("limits")),
                  a.getInteger("maxContinues", Integer.MAX_VALUE))
              .map(r -> r.toJson());
          case "editMessage" -> store
              .editMessage(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"),
                  a.getString("content"), a.getString("clientMessageId"),
                  SendLimits.fromJson(a.getJsonObject("limits")), a.getInteger("maxVersions", Integer.MAX_VALUE))
              .map(r -> r.toJson());
          case "setFeedback" -> store
              .setFeedback(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"),
                  a.getString("rating"), a.getString("comment"))
              .map(ChatMessage::toJson);
          case "requestCancel" -> store
              .requestCancel(a.getString("userId"), a.getString("sessionId"), a.getString("messageId"))
              .map(ChatMessage::toJson);
          case "claimGeneration" -> store
              .claimGeneration(a.getString("messageId"), a.getString("workerId"), a.getLong("leaseMillis"))
              .map(r -> r.toJson());
          case "claimReply" -> store
              .claimReply(a.getString("messageId"), a.getString("sessionId"), a.getString("workerId"),
                  a.getLong("leaseMillis"), a.getInteger("historyLimit"))
              .map(r -> r.toJson());
          case "loadHistory" -> store
              .loadHistory(
                  a.getString("sessionId"),
                  Json.instant(a, "beforeCreatedAt"),
                  a.getString("beforeId"),
                  a.getInteger("limit"))
              .map(ChatStoreBusHandler::items);
          case "loadHistoryRange" -> store
              .loadHistoryRange(
                  a.getString("sessionId"),
                  Json.instant(a, "afterCreatedAt"),
                  a.getString("afterId"),
                  Json.instant(a, "beforeCreatedAt"),
                  a.getString("beforeId"),
                  a.getInteger("limit"),
                  a.getBoolean("newestFirst", false))
              .map(ChatStoreBusHandler::items);
          case "checkpointGeneration" -> store
              .checkpointGeneration(
                  a.getString("messageId"),
                  a.getString("workerId"),
                  a.getString("partialContent"),
                  a.getLong("leaseMillis"))
              .map(r -> r.toJson());
          case "completeGeneration" -> store
              .completeGeneration(
                  a.getString("messageId"),
                  a.getString("workerId"),
                  Completion.fromJson(a.getJsonObject("completion")))
              .map(ChatMessage::toJson);
          case "failGeneration" -> store
              .failGeneration(
                  a.getString("messageId"),
                  a.getString("workerId"),
                  ErrorInfo.fromJson(a.getJsonObject("error")))
              .map(ChatMessage::toJson);
          case "releaseForRetry" -> store
              .releaseForRetry(
                  a.getString("messageId"),
                  a.getString("workerId"),
                  Json.instant(a, "notBefore"),
                  ErrorInfo.fromJson(a.getJsonObject("lastError")))
              .map(ChatMessage::toJson);
          case "cancelGeneration" -> store
              .cancelGeneration(
                  a.getString("messageId"), a.getString("workerId"), a.getString("partialContent"))
              .map(ChatMessage::toJson);
          case "findStrandedReplies" -> store
              .findStrandedReplies(
                  Json.instant(a, "now"), Json.instant(a, "pendingBefore"), a.getInteger("limit"))
              .map(ids -> new JsonObject().put("ids", new JsonArray(ids)));
          case "expireLeasesOf" -> store
              .expireLeasesOf(a.getString("ownerPrefix"))
              .map(ids -> new JsonObject().put("ids", new JsonArray(ids)));
          case "findActiveReplies" -> store
              .findActiveReplies(a.getString("userId"), a.getString("sessionId"))
              .map(ChatStoreBusHandler::items);
          case "listMessageDocuments" -> store
              .listMessageDocuments(
                  a.getString("userId"), a.getString("sessionId"), a.getString("after"), a.getInteger("limit"))
              .map(p -> p.toJson(m -> m));
          case "readUsage" -> store
              .readUsage(a.getString("userId"), a.getString("from"), a.getString("to"))
              .map(list -> {
                JsonArray arr = new JsonArray();
                list.forEach(e -> arr.add(e.toJson()));
                return new JsonObject().put("items", arr);
              });
          case "recoverUsageLedger" -> store
              .recoverUsageLedger(Json.instant(a, "completedBefore"), a.getInteger("limit"))
              .map(n -> new JsonObject().put("count", n));
          case "search" -> store
              .search(a.getString("userId"), a.getString("query"), a.getInteger("limit"), a.getString("cursor"),
                  new ChatStore.SearchBudget(
                      a.getLong("maxScanBytes", ChatStore.SearchBudget.DEFAULT.maxScanBytes()),
                      a.getLong("maxTimeMs", ChatStore.SearchBudget.DEFAULT.maxTimeMs())))
              .map(p -> p.toJson(ChatStore.SearchHit::toJson));
          case "enqueueSessionJob" -> store
              .enqueueSessionJob(a.getString("sessionId"), kind(a))
              .map(created -> new JsonObject().put("created", created));
          case "claimSessionJob" -> store
              .claimSessionJob(a.getString("sessionId"), kind(a), a.getString("workerId"), a.getLong("leaseMillis"))
              .map(r -> r.toJson());
          case "renewSessionJob" -> store
              .renewSessionJob(a.getString("sessionId"), kind(a), a.getString("workerId"), a.getLong("leaseMillis"))
              .map(held -> new JsonObject().put("leaseHeld", held));
          case "completeSessionJob" -> store
              .completeSessionJob(a.getString("sessionId"), kind(a), a.getString("workerId"), a.getJsonObject("result"))
              .map(r -> r.toJson());
          case "releaseSessionJob" -> store
              .releaseSessionJob(
                  a.getString("sessionId"),
                  kind(a),
                  a.getString("workerId"),
                  Json.instant(a, "notBefore"),
                  ErrorInfo.fromJson(a.getJsonObject("lastError")))
              .map(v -> new JsonObject());
          case "failSessionJob" -> store
              .failSessionJob(
                  a.getString("sessionId"), kind(a), a.getString("workerId"), ErrorInfo.fromJson(a.getJsonObject("error")))
              .map(v -> new JsonObject());
          case "findStrandedSessionJobs" -> store
              .findStrandedSessionJobs(Json.instant(a, "now"), Json.instant(a, "pendingBefore"), a.getInteger("limit"))
              .map(jobs -> {
                JsonArray arr = new JsonArray();
                jobs.forEach(j -> arr.add(j.toJson()));
                return new JsonObject().put("jobs", arr);
              });
          default -> Future.failedFuture(
              ErrorCode.VALIDATION_FAILED.failure("unknown persistence action: " + action));
        };
    return (Future<Object>) f;
  }

  /** The {@code kind} argument; an unknown one is a malformed request. */
  private static SessionJobKind kind(JsonObject a) {
    SessionJobKind kind = a.getValue("kind") instanceof String s ? SessionJobKind.fromWire(s) : null;
    if (kind == null) {
      throw new IllegalArgumentException("unknown session job kind");
    }
    return kind;
  }

  private static JsonObject items(List<ChatMessage> list) {
    JsonArray arr = new JsonArray();
    list.forEach(m -> arr.add(m.toJson()));
    return new JsonObject().put("items", arr);
  }
}
