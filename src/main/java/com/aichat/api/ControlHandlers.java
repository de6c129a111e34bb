package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.QueuePosition;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Conversations.SendResult;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Regenerate, edit, continue and feedback on {@code /chats/:sessionId/messages/:messageId...}
 * (docs/versions.md). A new generation is admitted like a send: the overload guard first, then the
 * store's pending-reply cap and daily quota, and it is dispatched like a send's reply.
 */
final class ControlHandlers {

  private static final Set<String> RATINGS = Set.of("up", "down");

  private final Conversations store;
  private final AccessPolicy policy;
  private final MessageHandlers messages;
  private final MessageControlSettings settings;

  ControlHandlers(Conversations store, AccessPolicy policy, MessageHandlers messages, MessageControlSettings settings) {
    this.store = store;
    this.policy = policy;
    this.messages = messages;
    this.settings = settings;
  }

  /** {@code POST .../regenerate {clientMessageId?}}: 202 with the reply as a new pending version; 200 on a replay. */
  void regenerate(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    String clientMessageId = clientMessageId(ctx, Set.of("clientMessageId"));
    AuthenticatedUser user = AuthHandler.user(ctx);
    start(ctx, user, () -> store.regenerateReply(user.userId(), sessionId, messageId, clientMessageId,
        policy.sendLimits(user), settings.maxVersions()));
  }

  /** {@code POST .../continue {clientMessageId?}}: 202 with the reply pending again, text kept. */
  void continueReply(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    String clientMessageId = clientMessageId(ctx, Set.of("clientMessageId"));
    AuthenticatedUser user = AuthHandler.user(ctx);
    start(ctx, user, () -> store.continueReply(user.userId(), sessionId, messageId, clientMessageId,
        policy.sendLimits(user), settings.maxContinues()));
  }

  /** {@code PATCH .../messages/:messageId {content, clientMessageId?}}: 202 with the edited message and its new reply version. */
  void edit(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    JsonBody body = JsonBody.read(ctx, Set.of("content", "clientMessageId"), true);
    String content = body.string("content", 1, MessageHandlers.MAX_CONTENT, false, true);
    String clientMessageId = body.string("clientMessageId", 1, MessageHandlers.MAX_CLIENT_MESSAGE_ID, false, false);
    body.validate();
    AuthenticatedUser user = AuthHandler.user(ctx);
    start(ctx, user, () -> store.editMessage(user.userId(), sessionId, messageId, content, clientMessageId,
        policy.sendLimits(user), settings.maxVersions()));
  }

  /** {@code PUT .../feedback {rating, comment?}}: 200 with the reply. */
  void putFeedback(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    JsonBody body = JsonBody.read(ctx, Set.of("rating", "comment"), true);
    String rating = body.string("rating", 1, 10, false, true);
    String comment = body.string("comment", 1, settings.feedbackCommentMaxChars(), false, false);
    body.validate();
    if (!RATINGS.contains(rating)) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "rating must be \"up\" or \"down\"");
    }
    store.setFeedback(AuthHandler.user(ctx).userId(), sessionId, messageId, rating, comment)
        .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
        .onFailure(ctx::fail);
  }

  /** {@code DELETE .../feedback}: 200 with the reply, its feedback cleared. */
  void deleteFeedback(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    String messageId = Params.pathId(ctx, "messageId", "message");
    store.setFeedback(AuthHandler.user(ctx).userId(), sessionId, messageId, null, null)
        .onSuccess(m -> Responses.json(ctx, 200, m.toJson()))
        .onFailure(ctx::fail);
  }

  private static String clientMessageId(RoutingContext ctx, Set<String> fields) {
    JsonBody body = JsonBody.read(ctx, fields, false);
    String id = body.string("clientMessageId", 1, MessageHandlers.MAX_CLIENT_MESSAGE_ID, false, false);
    body.validate();
    return id;
  }

  private void start(RoutingContext ctx, AuthenticatedUser user, java.util.function.Supplier<Future<SendResult>> call) {
    messages.admit(user)
        .compose(v -> call.get().recover(err -> Future.failedFuture(policy.sendRefusal(user, err))))
        .compose(result -> result.created()
            ? messages.dispatch(result).map(queue -> toJson(result, queue))
            : Future.succeededFuture(toJson(result, null)).map(o -> o.put("created", false)))
        .onSuccess(json -> Responses.json(ctx, json.getBoolean("created", true) ? 202 : 200, json))
        .onFailure(ctx::fail);
  }

  private static JsonObject toJson(SendResult result, QueuePosition queue) {
    JsonObject o = new JsonObject()
        .put("userMessage", result.userMessage().toJson())
        .put("reply", result.reply().toJson())
        .put("created", result.created());
    return queue == null ? o : o.put("queue", queue.toJson());
  }
}
