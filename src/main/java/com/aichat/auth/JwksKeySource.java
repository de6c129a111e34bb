package com.aichat.auth;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing keys of a JWKS URL, fetched with the Vert.x WebClient. Only asymmetric signature keys
 * (RSA, EC) are kept: an {@code oct} key published in a JWKS would let anyone who can read the
 * document forge tokens. Keys without {@code alg} get the usual default for their type.
 */
final class JwksKeySource {

  private static final Logger log = LoggerFactory.getLogger(JwksKeySource.class);
  static final Set<String> ASYMMETRIC_ALGS =
      Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

  private final WebClient client;
  private final String url;

  JwksKeySource(Vertx vertx, String url) {
    this.client = WebClient.create(vertx, new WebClientOptions()
        .setConnectTimeout(5_000)
        .setIdleTimeout(10)
        .setUserAgent("chat-service-jwks"));
    this.url = url;
  }

  /** Fetches the document and returns the usable keys (each with {@code alg} set). */
  Future<List<JsonObject>> fetch() {
    return client.getAbs(url)
        .timeout(10_000)
        .send()
        .compose(this::keysOf);
  }

  private Future<List<JsonObject>> keysOf(HttpResponse<?> resp) {
    if (resp.statusCode() != 200) {
      return Future.failedFuture(new IllegalStateException("JWKS " + url + " answered HTTP " + resp.statusCode()));
    }
    JsonArray keys;
    try {
      keys = resp.bodyAsJsonObject().getJsonArray("keys");
    } catch (RuntimeException e) {
      return Future.failedFuture(new IllegalStateException("JWKS " + url + " is not a JSON key set"));
    }
    if (keys == null) {
      return Future.failedFuture(new IllegalStateException("JWKS " + url + " has no 'keys' array"));
    }
    List<JsonObject> usable = new ArrayList<>();
    for (Object k : keys) {
      if (k instanceof JsonObject key) {
        JsonObject withAlg = withAlgorithm(key);
        if (withAlg != null) {
          usable.add(withAlg);
        }
      }
    }
    log.info("loaded {} signing key(s) from JWKS {}", usable.size(), url);
    return Future.succeededFuture(usable);
  }

  /** The key with its algorithm made explicit, or null when it is not an asymmetric signing key. */
  static JsonObject withAlgorithm(JsonObject key) {
    String use = key.getString("use");
    if (use != null && !use.equals("sig")) {
      return null;
    }
    String kty = key.getString("kty");
    String alg = key.getString("alg");
    if (alg == null) {
      alg = defaultAlg(kty, key.getString("crv"));
    }
    if (alg == null || !ASYMMETRIC_ALGS.contains(alg) || !compatible(kty, alg)) {
      return null;
    }
    return key.copy().put("alg", alg);
  }

  private static String defaultAlg(String kty, String crv) {
    if ("RSA".equals(kty)) {
      return "RS256";
    }
    if ("EC".equals(kty) && crv != null) {
      return switch (crv) {
        case "P-256" -> "ES256";
        case "P-384" -> "ES384";
        case "P-521" -> "ES512";
        default -> null;
      };
    }
    return null;
  }

  private static boolean compatible(String kty, String alg) {
    return ("RSA".equals(kty) && (alg.startsWith("RS") || alg.startsWith("PS")))
        || ("EC".equals(kty) && alg.startsWith("ES"));
  }
}
