package com.aichat.auth;

import io.vertx.core.Future;

/**
 * Verifies a bearer JWT with the rules of {@link AuthSettings}. The REST API and the Socket.IO gateway
 * use the same verifier, so a token means the same everywhere.
 */
public interface TokenVerifier {

  /**
   * Verifies signature, algorithm, expiry, issuer and audience, and extracts the user id. Fails with a
   * {@link com.aichat.contract.ServiceFailure} of code {@code UNAUTHENTICATED} whose message is a short
   * reason safe to show the caller (e.g. "token expired", "user id claim is not an ObjectId").
   */
  Future<AuthenticatedUser> verify(String token);
}
