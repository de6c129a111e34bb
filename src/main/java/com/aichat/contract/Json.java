package com.aichat.contract;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** Small helpers for the JSON forms of the contract: ISO-8601 instants and optional fields. */
public final class Json {

  private Json() {}

  public static String iso(Instant t) {
    return t == null ? null : t.toString();
  }

  public static Instant instant(JsonObject o, String key) {
    String s = o.getString(key);
    return s == null ? null : Instant.parse(s);
  }

  /** Puts the value only when it is not null, so optional fields are absent rather than null. */
  public static JsonObject putOpt(JsonObject o, String key, Object value) {
    if (value != null) {
      o.put(key, value);
    }
    return o;
  }
}
