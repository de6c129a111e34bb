package com.aichat.auth;

import io.vertx.core.json.JsonObject;

/** Reads a value at a dotted path ({@code subscription.status}) inside a JSON object of claims. */
public final class ClaimPath {

  private ClaimPath() {}

  /**
   * The value at {@code path}, or null when any step is missing or not an object. A claim whose name
   * itself contains dots (e.g. {@code https://example.com/user.id}) is found too: the whole path is
   * tried as one key first.
   */
  public static Object read(JsonObject claims, String path) {
    if (claims == null || path == null) {
      return null;
    }
    if (claims.containsKey(path)) {
      return claims.getValue(path);
    }
    Object current = claims;
    for (String step : path.split("\\.")) {
      if (!(current instanceof JsonObject obj)) {
        return null;
      }
      current = obj.getValue(step);
    }
    return current;
  }
}
