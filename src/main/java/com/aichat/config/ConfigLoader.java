package com.aichat.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Loads the configuration with an explicit store order, lowest precedence first:
 *
 * <ol>
 *   <li>{@code conf/config.json}: the working directory's copy, or the defaults bundled in the jar;
 *   <li>the JSON file named by {@code CHAT_CONFIG}, if set;
 *   <li>the environment: {@code CHAT_<PATH>} for every key of the files, the path upper-cased with dots
 *       as underscores ({@code mongo.connection_string} → {@code CHAT_MONGO_CONNECTION_STRING}), plus
 *       {@code ANTHROPIC_API_KEY} for {@code claude.api_key}.
 * </ol>
 *
 * Environment values are parsed as the type of the key they override (numbers, booleans, JSON
 * arrays and objects); a value of the wrong type stops startup naming the variable.
 */
public final class ConfigLoader {

  public static final String DEFAULT_FILE = "conf/config.json";
  public static final String CONFIG_FILE_ENV = "CHAT_CONFIG";

  /** Well-known variables that override a key without the {@code CHAT_} scheme. */
  static final Map<String, String> ALIASES = Map.of("ANTHROPIC_API_KEY", "claude.api_key");

  private ConfigLoader() {}

  public static Future<JsonObject> load(Vertx vertx) {
    ConfigRetrieverOptions opts = new ConfigRetrieverOptions().setIncludeDefaultStores(false);
    opts.addStore(fileStore(DEFAULT_FILE, false));
    String extra = System.getenv(CONFIG_FILE_ENV);
    if (extra != null && !extra.isBlank()) {
      opts.addStore(fileStore(extra, false));
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, opts);
    return retriever
        .getConfig()
        .eventually(retriever::close)
        .recover(
            err ->
                Future.failedFuture(
                    new ConfigException("Cannot read configuration: " + safe(err.getMessage()))))
        .map(files -> applyEnvironment(files, System.getenv()));
  }

  private static String safe(String s) {
    return s == null ? "unknown error" : s;
  }

  private static ConfigStoreOptions fileStore(String path, boolean optional) {
    return new ConfigStoreOptions()
        .setType("file")
        .setFormat("json")
        .setOptional(optional)
        .setConfig(new JsonObject().put("path", path));
  }

  /** {@code CHAT_} + the dotted path upper-cased with dots as underscores. */
  public static String envNameFor(String path) {
    return "CHAT_" + path.replace('.', '_').toUpperCase(Locale.ROOT);
  }

  /**
   * Overlays environment variables on the file configuration. Pure, so that tests can pass their own
   * environment map.
   */
  public static JsonObject applyEnvironment(JsonObject files, Map<String, String> env) {
    JsonObject merged = files.copy();
    Map<String, String> effective = new HashMap<>(env);
    ALIASES.forEach(
        (alias, path) -> {
          String v = env.get(alias);
          if (v != null && !effective.containsKey(envNameFor(path))) {
            effective.put(envNameFor(path), v);
          }
        });
    overlay(merged, "", effective);
    return merged;
  }

  private static void overlay(JsonObject node, String prefix, Map<String, String> env) {
    for (String key : node.fieldNames().toArray(new String[0])) {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      Object current = node.getValue(key);
      String raw = env.get(envNameFor(path));
      if (raw != null) {
        node.put(key, parse(path, raw, current));
      } else if (current instanceof JsonObject child) {
        overlay(child, path, env);
      }
    }
  }

  private static Object parse(String path, String raw, Object current) {
    String env = envNameFor(path);
    try {
      if (current instanceof Boolean) {
        String s = raw.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("true") && !s.equals("false")) {
          throw new ConfigException(
              "Invalid configuration: " + env + " (" + path + ") must be true or false but was '" + raw + "'");
        }
        return Boolean.parseBoolean(s);
      }
      if (current instanceof Integer || current instanceof Long) {
        return Long.parseLong(raw.trim());
      }
      if (current instanceof Number) {
        return Double.parseDouble(raw.trim());
      }
      if (current instanceof JsonArray) {
        return new JsonArray(raw);
      }
      if (current instanceof JsonObject) {
        return new JsonObject(raw);
      }
      return raw;
    } catch (NumberFormatException | DecodeException e) {
      throw new ConfigException(
          "Invalid configuration: "
              + env
              + " ("
              + path
              + ") must be "
              + kind(current)
              + " but was '"
              + raw
              + "'");
    }
  }

  private static String kind(Object v) {
    if (v instanceof Number) {
      return "a number";
    }
    if (v instanceof JsonArray) {
      return "a JSON array";
    }
    if (v instanceof JsonObject) {
      return "a JSON object";
    }
    return "a string";
  }
}
