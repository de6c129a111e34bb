package com.aichat.api;

import com.aichat.contract.ChatSession;
import com.aichat.persistence.Conversations;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/** {@code /chats} and {@code /chats/:sessionId}: create, list, read, rename, delete. */
final class SessionHandlers {

  static final String DEFAULT_TITLE = Conversations.DEFAULT_TITLE;
  static final int MAX_TITLE = 200;
  static final int DEFAULT_LIMIT = 20;
  static final int MAX_LIMIT = 100;

  private final Conversations store;
  private final String publicBaseUrl;

  SessionHandlers(Conversations store, String publicBaseUrl) {
    this.store = store;
    this.publicBaseUrl = publicBaseUrl;
  }

  void create(RoutingContext ctx) {
    JsonBody body = JsonBody.read(ctx, Set.of("title", "teamId"), false);
    String title = body.string("title", 1, MAX_TITLE, true, false);
    String teamId = body.objectId("teamId");
    body.validate();
    // no title: the store gives the default one, which the title job may replace
    store.createSession(AuthHandler.user(ctx).userId(), teamId, title)
        .onSuccess(s -> {
          ctx.response().putHeader(HttpHeaders.LOCATION, publicBaseUrl + "/chats/" + s.id());
          Responses.json(ctx, 201, s.toJson());
        })
        .onFailure(ctx::fail);
  }

  void list(RoutingContext ctx) {
    int limit = Params.limit(ctx, DEFAULT_LIMIT, MAX_LIMIT);
    String cursor = Params.cursor(ctx, "cursor");
    String teamId = Params.objectIdQuery(ctx, "teamId");
    store.listSessions(AuthHandler.user(ctx).userId(), teamId, limit, cursor)
        .onSuccess(page -> Responses.json(ctx, 200, page.toJson(ChatSession::toJson)))
        .onFailure(ctx::fail);
  }

  void get(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    store.getSession(AuthHandler.user(ctx).userId(), sessionId)
        .onSuccess(s -> Responses.json(ctx, 200, s.toJson()))
        .onFailure(ctx::fail);
  }

  void rename(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    JsonBody body = JsonBody.read(ctx, Set.of("title"), true);
    String title = body.string("title", 1, MAX_TITLE, true, true);
    body.validate();
    store.renameSession(AuthHandler.user(ctx).userId(), sessionId, title)
        .onSuccess(s -> Responses.json(ctx, 200, s.toJson()))
        .onFailure(ctx::fail);
  }

  void delete(RoutingContext ctx) {
    String sessionId = Params.pathId(ctx, "sessionId", "session");
    store.deleteSession(AuthHandler.user(ctx).userId(), sessionId)
        .onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(ctx::fail);
  }
}
