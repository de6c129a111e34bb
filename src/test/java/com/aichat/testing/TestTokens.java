package com.aichat.testing;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.JWTOptions;
import org.bson.types.ObjectId;

/** Mints HS256 tokens signed with {@link TestApp#TEST_SECRET} (or any secret) for tests. */
public final class TestTokens {

  private TestTokens() {}

  /** A fresh random user id (24-hex ObjectId). */
  public static String newUserId() {
    return new ObjectId().toHexString();
  }

  /** A one-hour token for {@code userId} signed with the test secret. */
  public static String token(Vertx vertx, String userId) {
    return token(vertx, TestApp.TEST_SECRET, new JsonObject().put("sub", userId), 3600);
  }

  /** A token with the given claims, signed HS256 with {@code secret}, valid {@code ttlSeconds}. */
  public static String token(Vertx vertx, String secret, JsonObject claims, int ttlSeconds) {
    JWTAuth jwt =
        JWTAuth.create(
            vertx,
            new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    return jwt.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(ttlSeconds));
  }
}
