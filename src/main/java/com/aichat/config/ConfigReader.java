package com.aichat.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Typed, validating access to one section of the merged configuration. Every error names the full
 * key (e.g. {@code http.port}) and the environment variable that overrides it
 * ({@code CHAT_HTTP_PORT}), so a bad value stops startup with a message an operator can act on.
 */
public final class ConfigReader {

  private final JsonObject json;
  private final String path;

  public ConfigReader(JsonObject json, String path) {
    this.json = json == null ? new JsonObject() : json;
    this.path = path;
  }

  /** The reader of a nested section; a missing section reads as empty (defaults apply). */
  public ConfigReader section(String key) {
    Object v = json.getValue(key);
    if (v != null && !(v instanceof JsonObject)) {
      throw error(key, "must be an object");
    }
    return new ConfigReader((JsonObject) v, key(key));
  }

  public String key(String k) {
    return path.isEmpty() ? k : path + "." + k;
  }

  /** The environment variable that overrides {@code key}: {@code CHAT_} + the upper-cased path. */
  public String envName(String k) {
    return ConfigLoader.envNameFor(key(k));
  }

  public ConfigException error(String k, String problem) {
    return new ConfigException(
        "Invalid configuration: " + key(k) + " " + problem + " (set it in conf/config.json or with "
            + envName(k) + ")");
  }

  public String string(String k, String def) {
    Object v = json.getValue(k);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String s)) {
      throw error(k, "must be a string");
    }
    return s;
  }

  /** A string that may be absent or blank; blank reads as null. */
  public String optString(String k) {
    String s = string(k, null);
    return s == null || s.isBlank() ? null : s.trim();
  }

  public String requiredString(String k) {
    String s = optString(k);
    if (s == null) {
      throw error(k, "is required");
    }
    return s;
  }

  public String oneOf(String k, String def, Set<String> allowed) {
    String s = string(k, def);
    if (!allowed.contains(s)) {
      throw error(k, "must be one of " + allowed + " but was '" + s + "'");
    }
    return s;
  }

  public long longValue(String k, long def, long min, long max) {
    Object v = json.getValue(k);
    if (v == null) {
      return def;
    }
    long n;
    if (v instanceof Number num) {
      double d = num.doubleValue();
      if (d != Math.rint(d)) {
        throw error(k, "must be a whole number but was " + v);
      }
      n = num.longValue();
    } else {
      throw error(k, "must be a number but was '" + v + "'");
    }
    if (n < min || n > max) {
      throw error(k, "must be between " + min + " and " + max + " but was " + n);
    }
    return n;
  }

  public int intValue(String k, int def, int min, int max) {
    return (int) longValue(k, def, min, max);
  }

  public double doubleValue(String k, double def, double min, double max) {
    Object v = json.getValue(k);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number num)) {
      throw error(k, "must be a number but was '" + v + "'");
    }
    double d = num.doubleValue();
    if (d < min || d > max) {
      throw error(k, "must be between " + min + " and " + max + " but was " + d);
    }
    return d;
  }

  public boolean bool(String k, boolean def) {
    Object v = json.getValue(k);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Boolean b)) {
      throw error(k, "must be true or false but was '" + v + "'");
    }
    return b;
  }

  public List<String> stringList(String k, List<String> def) {
    Object v = json.getValue(k);
    if (v == null) {
      return def;
    }
    if (!(v instanceof JsonArray arr)) {
      throw error(k, "must be an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof String s)) {
        throw error(k, "must be an array of strings");
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  /** A nested object as raw JSON (for maps such as per-plan quotas); absent reads as empty. */
  public JsonObject object(String k) {
    Object v = json.getValue(k);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw error(k, "must be an object");
    }
    return o;
  }

  /** An absolute http(s) URL, or null when absent or blank. */
  public String optUrl(String k) {
    String s = optString(k);
    if (s == null) {
      return null;
    }
    try {
      java.net.URI u = java.net.URI.create(s);
      if (u.getScheme() == null
          || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
          || u.getHost() == null) {
        throw error(k, "must be an absolute http(s) URL but was '" + s + "'");
      }
    } catch (IllegalArgumentException e) {
      throw error(k, "must be an absolute http(s) URL but was '" + s + "'");
    }
    return s;
  }

  /**
   * The URL signing keys are fetched from (a JWKS): {@code https}, or plain {@code http} only when the
   * host is loopback ({@code localhost}, {@code 127.0.0.0/8}, {@code ::1}), since keys fetched over
   * plain HTTP from another host can be replaced on the way. Null when absent or blank.
   */
  public String optKeyUrl(String k) {
    String s = optUrl(k);
    if (s == null) {
      return null;
    }
    java.net.URI u = java.net.URI.create(s);
    if (u.getScheme().equals("https") || isLoopbackHost(u.getHost())) {
      return s;
    }
    throw error(k, "must be an https URL (plain http is allowed only on loopback: localhost, 127.0.0.1, [::1])"
        + " but was '" + s + "'");
  }

  /** Whether a URL host names the loopback interface (a literal address; or {@code localhost}). */
  public static boolean isLoopbackHost(String host) {
    String h = host.toLowerCase(java.util.Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1")
        || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
  }
}
