package com.aichat.auth;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The caller behind a verified bearer token.
 *
 * @param userId the 24-hex ObjectId from the configured user-id claim
 * @param claims the token's verified claims (for subscription and quota checks)
 * @param expiresAt the token's {@code exp}, or null if it has none
 */
public record AuthenticatedUser(String userId, JsonObject claims, Instant expiresAt) {}
