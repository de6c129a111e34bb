package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.QueuePosition;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code /chats/:sessionId/messages...}: send (with quota), list, read, cancel a reply. */
final class MessageHandlers {

  private static final Logger log = LoggerFactory.getLogger(MessageHandlers.class);
  static final int MAX_CONTENT = 32_000;
  static final int MAX_CLIENT_MESSAGE_ID = 100;
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 100;

  private final Vertx vertx;
  private final Conversations store;
  /** How long a send waits for the dispatcher's receipt before answering 202 without a queue place. */
  static final long DISPATCH_ANSWER_TIMEOUT_MS = 2_000;

  private final AccessPolicy policy;
  private final OverloadGuard overload;
  private final boolean awaitDispatch;

  MessageHandlers(Vertx vertx, Conversations store, AccessPolicy policy, OverloadGuard overload, boolean awaitDispatch) {
    this.vertx = vertx;
    this.store = store;
    this.policy = policy;
    this.overload = overload;
    this.awaitDispatch = awaitDispatch;
  }

  /**
   * 202 with the new pair and, when the reply has to wait for a worker, its {@code queue} place; 200
   * with the stored pair for a repeated clientMessageId; 503 OVERLOADED (nothing stored) past a queue
   * limit; 429 QUOTA_EXCEEDED or TOO_MANY_PENDING (nothing stored) past a send limit.
   */
  void send(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    JsonBody body = JsonBody.read(ctx, Set.of("content", "clientMessageId"), true);
    String content = body.string("content", 1, MAX_CONTENT, false, true);
    String clientMessageId = body.string("clientMessageId", 1, MAX_CLIENT_MESSAGE_ID, false, false);
    body.validate();
    AuthenticatedUser user = AuthHandler.user(ctx);
    admit(user)
        .compose(
            v -> store.sendMessage(user.userId(), sessionId, content, clientMessageId, policy.sendLimits(user))
                .recover(err -> Future.failedFuture(policy.sendRefusal(user, err))),
            refusal -> replayRefused(refusal, user, sessionId, clientMessageId))
        .compose(result -> result.created()
            ? dispatch(result).map(queue -> new Sent(result, queue))
            : Future.succeededFuture(new Sent(result, null)))
        .onSuccess(sent -> Responses.json(ctx, sent.result().created() ? 202 : 200, sent.toJson()))
        .onFailure(ctx::fail);
  }

  /** A stored send and, when its reply has to wait for a worker, its place in the queue. */
  private record Sent(SendResult result, QueuePosition queue) {
    JsonObject toJson() {
      JsonObject o = new JsonObject()
          .put("userMessage", result.userMessage().toJson())
          .put("reply", result.reply().toJson());
      return queue == null ? o : o.put("queue", queue.toJson());
    }
  }

  /**
   * Overload first (in memory, nothing stored). The daily quota and the pending-reply cap are the
   * store's, checked and counted atomically with the send, after a retry has been recognised.
   */
  Future<Void> admit(AuthenticatedUser user) {
    try {
      overload.check(user.userId());
    } catch (ApiError refused) {
      return Future.failedFuture(refused);
    }
    return Future.succeededFuture();
  }

  /**
   * A retry of a send that was stored before the queue filled still gets its stored pair (200); any
   * other send keeps the refusal. (The store answers retries past the quota or the pending cap itself.)
   */
  private Future<SendResult> replayRefused(
      Throwable refusal, AuthenticatedUser user, String sessionId, String clientMessageId) {
    boolean replayable = refusal instanceof ApiError e && e.code() == ErrorCode.OVERLOADED;
    if (clientMessageId == null || !replayable) {
      return Future.failedFuture(refusal);
    }
    return store.findSend(user.userId(), sessionId, clientMessageId)
        .recover(err -> ErrorCode.fromThrowable(err) == ErrorCode.NOT_FOUND
            ? Future.failedFuture(refusal)
            : Future.failedFuture(err));
  }

  /**
   * One bus hop to the dispatcher. In local mode the answer (given as soon as the reply is handed over
   * or queued) names its place in the queue and refreshes {@link OverloadGuard}; a failed or late answer
   * still answers 202, because the reply is stored and the dispatcher's sweep picks it up. In
   * {@code cloud-tasks} mode the dispatch is fire and forget (task creation is a remote call).
   */
  Future<QueuePosition> dispatch(SendResult result) {
    ChatMessage reply = result.reply();
    JsonObject request = new DispatchRequest(reply.id(), reply.userId(), reply.sessionId()).toJson();
    if (!awaitDispatch) {
      vertx.eventBus().send(Addresses.DISPATCH, request);
      return Future.succeededFuture();
    }
    overload.dispatchSent();
    return vertx.eventBus()
        .<JsonObject>request(Addresses.DISPATCH, request, new DeliveryOptions().setSendTimeout(DISPATCH_ANSWER_TIMEOUT_MS))
        .map(answer -> DispatchReceipt.fromJson(answer.body()))
        .andThen(ar -> overload.dispatchAnswered(reply.userId(), ar.succeeded() ? ar.result() : null))
        .map(DispatchReceipt::queue)
        .recover(err -> {
          log.debug("reply {}: no dispatch receipt ({}); the sweep will pick it up", reply.id(), err.getMessage());
          return Future.succeededFuture();
        });
  }

  void list(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    int limit = Params.limit(ctx, DEFAULT_LIMIT, MAX_LIMIT);
    String after = Params.cursor(ctx, "after");
    String before = Params.cursor(ctx, "before");
    if (after != null && before != null) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "give at most one of after and before");
    }
    store.listMessages(AuthHandler.user(ctx).userId(), sessionId, after, before, limit)
        .onSuccess(page -> Responses.json(ctx, 200, page.toJson(ChatMessage::toJson)))
        .onFailure(ctx::fail);
  }

  void get(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    store.getMessage(AuthHandler.user(ctx).userId(), sessionId, messageId)
        .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
        .onFailure(ctx::fail);
  }

  /** Cancels a pending or processing reply: 202 with the message as it is now; a final reply is 409. */
  void cancel(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    JsonBody.read(ctx, Set.of(), false).validate();
    store.requestCancel(AuthHandler.user(ctx).userId(), sessionId, messageId)
        .onSuccess(m -> {
          if (m.status() == MessageStatus.PROCESSING) {
            vertx.eventBus().publish(Addresses.AI_CANCEL, new JsonObject().put("messageId", m.id()));
          }
          Responses.json(ctx, 202, m.toJson());
        })
        .onFailure(ctx::fail);
  }
}
