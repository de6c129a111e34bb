package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import com.aichat.persistence.ChatStore;
import com.aichat.persistence.ChatStore.SendResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
  private final ChatStore store;
  private final AccessPolicy policy;

  MessageHandlers(Vertx vertx, ChatStore store, AccessPolicy policy) {
    this.vertx = vertx;
    this.store = store;
    this.policy = policy;
  }

  /** 202 with the new pair (then dispatch), or 200 with the stored pair for a repeated clientMessageId. */
  void send(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    JsonBody body = JsonBody.read(ctx, Set.of("content", "clientMessageId"), true);
    String content = body.string("content", 1, MAX_CONTENT, false, true);
    String clientMessageId = body.string("clientMessageId", 1, MAX_CLIENT_MESSAGE_ID, false, false);
    body.validate();
    AuthenticatedUser user = AuthHandler.user(ctx);
    policy.checkQuota(user)
        .compose(
            v -> store.sendMessage(user.userId(), sessionId, content, clientMessageId),
            refusal -> replayOverQuota(refusal, user, sessionId, clientMessageId))
        .onSuccess(result -> {
          if (result.created()) {
            dispatch(result);
          }
          Responses.json(ctx, result.created() ? 202 : 200, new JsonObject()
              .put("userMessage", result.userMessage().toJson())
              .put("reply", result.reply().toJson()));
        })
        .onFailure(ctx::fail);
  }

  /**
   * A retry of a send that was stored before the quota ran out still gets its stored pair (200); any
   * other send keeps the quota refusal.
   */
  private Future<SendResult> replayOverQuota(
      Throwable refusal, AuthenticatedUser user, String sessionId, String clientMessageId) {
    boolean quotaRefusal = refusal instanceof ApiError e && e.code() == ErrorCode.QUOTA_EXCEEDED;
    if (clientMessageId == null || !quotaRefusal) {
      return Future.failedFuture(refusal);
    }
    return store.findSend(user.userId(), sessionId, clientMessageId)
        .recover(err -> ErrorCode.fromThrowable(err) == ErrorCode.NOT_FOUND
            ? Future.failedFuture(refusal)
            : Future.failedFuture(err));
  }

  private void dispatch(SendResult result) {
    // Fire and forget: the dispatcher's sweep picks up a pending reply even if this send is lost.
    vertx.eventBus().send(Addresses.DISPATCH, new JsonObject().put("messageId", result.reply().id()));
    log.debug("reply {} of session {} sent to dispatch", result.reply().id(), result.reply().sessionId());
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
