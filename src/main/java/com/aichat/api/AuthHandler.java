package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.auth.TokenVerifier;
import com.aichat.contract.ErrorCode;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Requires {@code Authorization: Bearer <JWT>} and puts the verified {@link AuthenticatedUser} in the
 * routing context under {@link #USER}. Refusals are 401 UNAUTHENTICATED with the verifier's reason.
 */
final class AuthHandler implements Handler<RoutingContext> {

  static final String USER = "chat.user";
  private static final String BEARER = "bearer ";

  private final TokenVerifier verifier;

  AuthHandler(TokenVerifier verifier) {
    this.verifier = verifier;
  }

  static AuthenticatedUser user(RoutingContext ctx) {
    return ctx.get(USER);
  }

  @Override
  public void handle(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    if (header == null || header.length() <= BEARER.length()
        || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      ctx.fail(ErrorCode.UNAUTHENTICATED.failure("missing bearer token"));
      return;
    }
    verifier.verify(header.substring(BEARER.length()).trim())
        .onSuccess(user -> {
          ctx.put(USER, user);
          ctx.next();
        })
        .onFailure(ctx::fail);
  }
}
