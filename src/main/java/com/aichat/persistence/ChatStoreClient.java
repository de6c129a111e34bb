package com.aichat.persistence;

import static com.aichat.contract.Json.iso;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatSession;
import com.aichat.contract.Page;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;

/**
 * The event-bus proxy of {@link ChatStore}: each call is one request on
 * {@link Addresses#PERSISTENCE} with the {@link Addresses#ACTION_HEADER} set to the method name and
 * the arguments as a JSON object. {@link ChatStoreBusHandler} is the other side.
 */
public final class ChatStoreClient implements ChatStore {

  /** Bus timeout of one persistence request; the store answers quickly or fails UNAVAILABLE. */
  public static final long DEFAULT_TIMEOUT_MS = 15_000;

  private final Vertx vertx;
  private final long timeoutMs;

  public ChatStoreClient(Vertx vertx) {
    this(vertx, DEFAULT_TIMEOUT_MS);
  }

  public ChatStoreClient(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  private Future<JsonObject> request(String action, JsonObject args) {
    DeliveryOptions opts =
        new DeliveryOptions().addHeader(Addresses.ACTION_HEADER, action).setSendTimeout(timeoutMs);
    return vertx.eventBus().<JsonObject>request(Addresses.PERSISTENCE, args, opts).map(m -> m.body());
  }

  @Override
  public Future<ChatSession> createSession(String userId, String teamId, String title) {
    return request(
            "createSession",
            new JsonObject().put("userId", userId).put("teamId", teamId).put("title", title))
        .map(ChatSession::fromJson);
  }

  @Override
  public Future<Page<ChatSession>> listSessions(
      String userId, String teamId, int limit, String cursor) {
    return request(
            "listSessions",
            new JsonObject()
                .put("userId", userId)
                .put("teamId", teamId)
                .put("limit", limit)
                .put("cursor", cursor))
        .map(o -> Page.fromJson(o, ChatSession::fromJson));
  }

  @Override
  public Future<ChatSession> getSession(String userId, String sessionId) {
    return request("getSession", new JsonObject().put("userId", userId).put("sessionId", sessionId))
        .map(ChatSession::fromJson);
  }

  @Override
  public Future<ChatSession> renameSession(String userId, String sessionId, String title) {
    return request(
            "renameSession",
            new JsonObject().put("userId", userId).put("sessionId", sessionId).put("title", title))
        .map(ChatSession::fromJson);
  }

  @Override
  public Future<Void> deleteSession(String userId, String sessionId) {
    return request(
            "deleteSession", new JsonObject().put("userId", userId).put("sessionId", sessionId))
        .mapEmpty();
  }

  @Override
  public Future<SendResult> sendMessage(
      String userId, String sessionId, String content, String clientMessageId, SendLimits limits) {
    return request(
            "sendMessage",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("content", content)
                .put("clientMessageId", clientMessageId)
                .put("limits", (limits == null ? SendLimits.NONE : limits).toJson()))
        .map(SendResult::fromJson);
  }

  @Override
  public Future<SendResult> findSend(String userId, String sessionId, String clientMessageId) {
    return request(
            "findSend",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("clientMessageId", clientMessageId))
        .map(SendResult::fromJson);
  }

  @Override
  public Future<Page<ChatMessage>> listMessages(
      String userId, String sessionId, String after, String before, int limit) {
    return request(
            "listMessages",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("after", after)
                .put("before", before)
                .put("limit", limit))
        .map(o -> Page.fromJson(o, ChatMessage::fromJson));
  }

  @Override
  public Future<ChatMessage> getMessage(String userId, String sessionId, String messageId) {
    return request(
            "getMessage",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("messageId", messageId))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<Long> countUserMessagesSince(String userId, Instant since) {
    return request(
            "countUserMessagesSince", new JsonObject().put("userId", userId).put("since", iso(since)))
        .map(o -> o.getLong("count"));
  }

  @Override
  public Future<JsonObject> lookupUserField(
      String collection, String idField, String userId, String fieldPath) {
    return request(
        "lookupUserField",
        new JsonObject()
            .put("collection", collection)
            .put("idField", idField)
            .put("userId", userId)
            .put("fieldPath", fieldPath));
  }

  @Override
  public Future<SendResult> regenerateReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits, int maxVersions) {
    return request("regenerateReply", new JsonObject()
            .put("userId", userId).put("sessionId", sessionId).put("messageId", messageId)
            .put("clientMessageId", clientMessageId)
            .put("limits", (limits == null ? SendLimits.NONE : limits).toJson())
            .put("maxVersions", maxVersions))
        .map(SendResult::fromJson);
  }

  @Override
  public Future<SendResult> continueReply(
      String userId, String sessionId, String messageId, String clientMessageId, SendLimits limits,
      int maxContinues) {
    return request("continueReply", new JsonObject()
            .put("userId", userId).put("sessionId", sessionId).put("messageId", messageId)
            .put("clientMessageId", clientMessageId)
            .put("limits", (limits == null ? SendLimits.NONE : limits).toJson())
            .put("maxContinues", maxContinues))
        .map(SendResult::fromJson);
  }

  @Override
  public Future<SendResult> editMessage(
      String userId, String sessionId, String messageId, String content, String clientMessageId,
      SendLimits limits, int maxVersions) {
    return request("editMessage", new JsonObject()
            .put("userId", userId).put("sessionId", sessionId).put("messageId", messageId)
            .put("content", content).put("clientMessageId", clientMessageId)
            .put("limits", (limits == null ? SendLimits.NONE : limits).toJson())
            .put("maxVersions", maxVersions))
        .map(SendResult::fromJson);
  }

  @Override
  public Future<ChatMessage> setFeedback(
      String userId, String sessionId, String messageId, String rating, String comment) {
    return request("setFeedback", new JsonObject()
            .put("userId", userId).put("sessionId", sessionId).put("messageId", messageId)
            .put("rating", rating).put("comment", comment))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<ChatMessage> requestCancel(String userId, String sessionId, String messageId) {
    return request(
            "requestCancel",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("messageId", messageId))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<ClaimResult> claimGeneration(String messageId, String workerId, long leaseMillis) {
    return request(
            "claimGeneration",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("leaseMillis", leaseMillis))
        .map(ClaimResult::fromJson);
  }

  @Override
  public Future<ReplyClaim> claimReply(
      String messageId, String sessionId, String workerId, long leaseMillis, int historyLimit) {
    return request(
            "claimReply",
            new JsonObject()
                .put("messageId", messageId)
                .put("sessionId", sessionId)
                .put("workerId", workerId)
                .put("leaseMillis", leaseMillis)
                .put("historyLimit", historyLimit))
        .map(ReplyClaim::fromJson);
  }

  @Override
  public Future<List<ChatMessage>> loadHistory(
      String sessionId, Instant beforeCreatedAt, String beforeId, int limit) {
    return request(
            "loadHistory",
            new JsonObject()
                .put("sessionId", sessionId)
                .put("beforeCreatedAt", iso(beforeCreatedAt))
                .put("beforeId", beforeId)
                .put("limit", limit))
        .map(o -> messages(o.getJsonArray("items")));
  }

  @Override
  public Future<List<ChatMessage>> loadHistoryRange(
      String sessionId, Instant afterCreatedAt, String afterId, Instant beforeCreatedAt, String beforeId,
      int limit, boolean newestFirst) {
    return request(
            "loadHistoryRange",
            new JsonObject()
                .put("sessionId", sessionId)
                .put("afterCreatedAt", iso(afterCreatedAt))
                .put("afterId", afterId)
                .put("beforeCreatedAt", iso(beforeCreatedAt))
                .put("beforeId", beforeId)
                .put("limit", limit)
                .put("newestFirst", newestFirst))
        .map(o -> messages(o.getJsonArray("items")));
  }

  @Override
  public Future<CheckpointResult> checkpointGeneration(
      String messageId, String workerId, String partialContent, long leaseMillis) {
    return request(
            "checkpointGeneration",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("partialContent", partialContent)
                .put("leaseMillis", leaseMillis))
        .map(CheckpointResult::fromJson);
  }

  @Override
  public Future<ChatMessage> completeGeneration(
      String messageId, String workerId, Completion completion) {
    return request(
            "completeGeneration",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("completion", completion.toJson()))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<ChatMessage> failGeneration(String messageId, String workerId, ErrorInfo error) {
    return request(
            "failGeneration",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("error", error.toJson()))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<ChatMessage> releaseForRetry(
      String messageId, String workerId, Instant notBefore, ErrorInfo lastError) {
    return request(
            "releaseForRetry",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("notBefore", iso(notBefore))
                .put("lastError", lastError == null ? null : lastError.toJson()))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<ChatMessage> cancelGeneration(
      String messageId, String workerId, String partialContent) {
    return request(
            "cancelGeneration",
            new JsonObject()
                .put("messageId", messageId)
                .put("workerId", workerId)
                .put("partialContent", partialContent))
        .map(ChatMessage::fromJson);
  }

  @Override
  public Future<List<String>> findStrandedReplies(Instant now, Instant pendingBefore, int limit) {
    return request(
            "findStrandedReplies",
            new JsonObject()
                .put("now", iso(now))
                .put("pendingBefore", iso(pendingBefore))
                .put("limit", limit))
        .map(o -> o.getJsonArray("ids").stream().map(String.class::cast).toList());
  }

  @Override
  public Future<List<String>> expireLeasesOf(String ownerPrefix) {
    return request("expireLeasesOf", new JsonObject().put("ownerPrefix", ownerPrefix))
        .map(o -> o.getJsonArray("ids").stream().map(String.class::cast).toList());
  }

  @Override
  public Future<List<ChatMessage>> findActiveReplies(String userId, String sessionId) {
    return request(
            "findActiveReplies",
            new JsonObject().put("userId", userId).put("sessionId", sessionId))
        .map(o -> messages(o.getJsonArray("items")));
  }

  @Override
  public Future<Page<JsonObject>> listMessageDocuments(
      String userId, String sessionId, String after, int limit) {
    return request(
            "listMessageDocuments",
            new JsonObject()
                .put("userId", userId)
                .put("sessionId", sessionId)
                .put("after", after)
                .put("limit", limit))
        .map(o -> Page.fromJson(o, m -> m));
  }

  @Override
  public Future<List<UsageEntry>> readUsage(String userId, String from, String to) {
    return request("readUsage", new JsonObject().put("userId", userId).put("from", from).put("to", to))
        .map(o -> o.getJsonArray("items").stream().map(x -> UsageEntry.fromJson((JsonObject) x)).toList());
  }

  @Override
  public Future<Integer> recoverUsageLedger(Instant completedBefore, int limit) {
    return request(
            "recoverUsageLedger",
            new JsonObject().put("completedBefore", iso(completedBefore)).put("limit", limit))
        .map(o -> o.getInteger("count"));
  }

  @Override
  public Future<Page<SearchHit>> search(
      String userId, String query, int limit, String cursor, SearchBudget budget) {
    return request(
            "search",
            new JsonObject()
                .put("userId", userId)
                .put("query", query)
                .put("limit", limit)
                .put("cursor", cursor)
                .put("maxScanBytes", budget.maxScanBytes())
                .put("maxTimeMs", budget.maxTimeMs()))
        .map(o -> Page.fromJson(o, SearchHit::fromJson));
  }

  @Override
  public Future<Boolean> enqueueSessionJob(String sessionId, SessionJobKind kind) {
    return request("enqueueSessionJob", job(sessionId, kind)).map(o -> o.getBoolean("created"));
  }

  @Override
  public Future<SessionJobClaim> claimSessionJob(
      String sessionId, SessionJobKind kind, String workerId, long leaseMillis) {
    return request(
            "claimSessionJob",
            job(sessionId, kind).put("workerId", workerId).put("leaseMillis", leaseMillis))
        .map(SessionJobClaim::fromJson);
  }

  @Override
  public Future<Boolean> renewSessionJob(
      String sessionId, SessionJobKind kind, String workerId, long leaseMillis) {
    return request(
            "renewSessionJob",
            job(sessionId, kind).put("workerId", workerId).put("leaseMillis", leaseMillis))
        .map(o -> o.getBoolean("leaseHeld"));
  }

  @Override
  public Future<SessionJobEnd> completeSessionJob(
      String sessionId, SessionJobKind kind, String workerId, JsonObject result) {
    return request(
            "completeSessionJob", job(sessionId, kind).put("workerId", workerId).put("result", result))
        .map(SessionJobEnd::fromJson);
  }

  @Override
  public Future<Void> releaseSessionJob(
      String sessionId, SessionJobKind kind, String workerId, Instant notBefore, ErrorInfo lastError) {
    return request(
            "releaseSessionJob",
            job(sessionId, kind)
                .put("workerId", workerId)
                .put("notBefore", iso(notBefore))
                .put("lastError", lastError == null ? null : lastError.toJson()))
        .mapEmpty();
  }

  @Override
  public Future<Void> failSessionJob(String sessionId, SessionJobKind kind, String workerId, ErrorInfo error) {
    return request(
            "failSessionJob",
            job(sessionId, kind).put("workerId", workerId).put("error", error == null ? null : error.toJson()))
        .mapEmpty();
  }

  @Override
  public Future<List<SessionJobRequest>> findStrandedSessionJobs(Instant now, Instant pendingBefore, int limit) {
    return request(
            "findStrandedSessionJobs",
            new JsonObject().put("now", iso(now)).put("pendingBefore", iso(pendingBefore)).put("limit", limit))
        .map(o -> o.getJsonArray("jobs").stream()
            .map(x -> SessionJobRequest.fromJson((JsonObject) x))
            .filter(java.util.Objects::nonNull)
            .toList());
  }

  private static JsonObject job(String sessionId, SessionJobKind kind) {
    return new JsonObject().put("sessionId", sessionId).put("kind", kind == null ? null : kind.wire());
  }

  private static List<ChatMessage> messages(JsonArray arr) {
    return arr.stream().map(x -> ChatMessage.fromJson((JsonObject) x)).toList();
  }
}
