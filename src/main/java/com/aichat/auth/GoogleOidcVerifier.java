package com.aichat.auth;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import com.aichat.config.LogSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies the OIDC bearer token Cloud Tasks attaches to a push ({@code Task.httpRequest.oidcToken}):
 * a Google-signed RS256 JWT.
 *
 * <p>Checks, in order: three base64url parts; header {@code alg} exactly {@code RS256} (so
 * {@code none} and HMAC tricks fail); a {@code kid} present in the JWKS (fetched with the Vert.x
 * WebClient from {@code cloud_tasks.oidc_jwks_url}, cached, refetched when a token names an unknown
 * {@code kid} but at most once per {@link #MIN_REFRESH_INTERVAL_MS}); the RSA signature; {@code iss}
 * one of {@link #ISSUERS}; {@code aud} equal to the configured audience; {@code email} equal to the
 * configured service account with {@code email_verified} true; {@code exp} in the future and
 * {@code iat} not in the future, each with {@link #SKEW_SECONDS} of clock skew.
 *
 * <p>A rejection is an {@link OidcRejection} whose reason is for the server log only; the caller
 * answers the client with a bare 401/403.
 */
public final class GoogleOidcVerifier {

  private static final Logger log = LoggerFactory.getLogger(GoogleOidcVerifier.class);

  /** The issuers Google uses for ID tokens. */
  public static final Set<String> ISSUERS = Set.of("accounts.google.com", "https://accounts.google.com");

  /** Clock skew allowed on {@code exp} and {@code iat}. */
  public static final long SKEW_SECONDS = 60;

  /** How long fetched keys are trusted before they are fetched again. */
  public static final long KEYS_MAX_AGE_MS = 3_600_000;

  /** A token with an unknown {@code kid} refetches the JWKS at most this often (no fetch amplification). */
  public static final long MIN_REFRESH_INTERVAL_MS = 5_000;

  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();

  /** Why a token was refused; {@code status} is 401 (not a valid Google token) or 403 (not ours). */
  public static final class OidcRejection extends RuntimeException {
    private final int status;

    OidcRejection(int status, String reason) {
      super(reason, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private final Vertx vertx;
  private final WebClient client;
  private final String jwksUrl;
  private final String audience;
  private final String serviceAccountEmail;
  private final Clock clock;

  private Map<String, PublicKey> keys = Map.of();
  private long keysFetchedAt = Long.MIN_VALUE / 2;
  private long lastFetchAttemptAt = Long.MIN_VALUE / 2;
  private Future<Map<String, PublicKey>> inFlight;

  public GoogleOidcVerifier(
      Vertx vertx, String jwksUrl, String audience, String serviceAccountEmail, Clock clock) {
    this.vertx = vertx;
    this.client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(5_000));
    this.jwksUrl = jwksUrl;
    this.audience = audience;
    this.serviceAccountEmail = serviceAccountEmail;
    this.clock = clock;
  }

  /** Verifies {@code token}; succeeds with its claims or fails with an {@link OidcRejection}. */
  public Future<JsonObject> verify(String token) {
    Jwt jwt;
    try {
      jwt = Jwt.parse(token);
    } catch (OidcRejection r) {
      return Future.failedFuture(r);
    }
    return keyFor(jwt.kid())
        .map(key -> verifySignature(jwt, key))
        .map(this::checkClaims);
  }

  private synchronized Future<PublicKey> keyFor(String kid) {
    long now = clock.millis();
    PublicKey known = keys.get(kid);
    if (known != null && now - keysFetchedAt < KEYS_MAX_AGE_MS) {
      return Future.succeededFuture(known);
    }
    // A fetch under way is joined (the first tokens after startup all wait for it); otherwise an
    // unknown kid refetches at most once per MIN_REFRESH_INTERVAL_MS.
    if (inFlight == null && now - lastFetchAttemptAt < MIN_REFRESH_INTERVAL_MS) {
      return known != null
          ? Future.succeededFuture(known)
          : Future.failedFuture(new OidcRejection(401, "unknown key id " + LogSafe.quote(kid)));
    }
    return refreshKeys()
        .otherwise(err -> currentKeys())
        .compose(current -> {
          PublicKey key = current.get(kid);
          return key == null
              ? Future.failedFuture(new OidcRejection(401, "unknown key id " + LogSafe.quote(kid)))
              : Future.succeededFuture(key);
        });
  }

  private synchronized Map<String, PublicKey> currentKeys() {
    return keys;
  }

  /**
   * One fetch at a time; concurrent callers share it. The fetch is registered before the request
   * starts and cleared when it ends, under this object's lock: callers may run on different threads
   * (a request started off an event loop completes on one), and a fetch that completed before it was
   * registered would otherwise stay registered, answering every later caller with the old keys.
   */
  private synchronized Future<Map<String, PublicKey>> refreshKeys() {
    if (inFlight != null) {
      return inFlight;
    }
    lastFetchAttemptAt = clock.millis();
    Promise<Map<String, PublicKey>> done = Promise.promise();
    inFlight = done.future();
    client
        .getAbs(jwksUrl)
        .timeout(10_000)
        .send()
        .map(this::parseJwks)
        .onComplete(ar -> {
          synchronized (this) {
            if (ar.succeeded()) {
              keys = ar.result();
              keysFetchedAt = clock.millis();
            }
            inFlight = null;
          }
          if (ar.succeeded()) {
            log.info("loaded {} OIDC signing keys from {}", ar.result().size(), jwksUrl);
          } else {
            log.warn("cannot load OIDC signing keys from {}: {}", jwksUrl, ar.cause().getMessage());
          }
          done.handle(ar);
        });
    return done.future();
  }

  private Map<String, PublicKey> parseJwks(HttpResponse<?> resp) {
    if (resp.statusCode() != 200) {
      throw new IllegalStateException("JWKS answered HTTP " + resp.statusCode());
    }
    JsonArray arr = resp.bodyAsJsonObject().getJsonArray("keys", new JsonArray());
    Map<String, PublicKey> out = new HashMap<>();
    for (Object o : arr) {
      if (o instanceof JsonObject jwk
          && "RSA".equals(jwk.getString("kty"))
          && jwk.getString("kid") != null
          && !"enc".equals(jwk.getString("use"))) {
        try {
          out.put(jwk.getString("kid"), rsaKey(jwk));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
          log.warn("skipping unusable JWK {}: {}", LogSafe.quote(jwk.getString("kid")), LogSafe.quote(e.getMessage()));
        }
      }
    }
    return Map.copyOf(out);
  }

  private static PublicKey rsaKey(JsonObject jwk) throws GeneralSecurityException {
    BigInteger n = new BigInteger(1, B64URL.decode(jwk.getString("n")));
    BigInteger e = new BigInteger(1, B64URL.decode(jwk.getString("e")));
    return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(n, e));
  }

  private Jwt verifySignature(Jwt jwt, PublicKey key) {
    try {
      Signature sig = Signature.getInstance("SHA256withRSA");
      sig.initVerify(key);
      sig.update(jwt.signingInput().getBytes(StandardCharsets.US_ASCII));
      if (!sig.verify(jwt.signature())) {
        throw new OidcRejection(401, "bad signature");
      }
      return jwt;
    } catch (GeneralSecurityException e) {
      throw new OidcRejection(401, "bad signature: " + LogSafe.quote(e.getMessage()));
    }
  }

  private JsonObject checkClaims(Jwt jwt) {
    JsonObject c = jwt.claims();
    long now = Instant.now(clock).getEpochSecond();
    if (!(c.getValue("iss") instanceof String iss) || !ISSUERS.contains(iss)) {
      throw new OidcRejection(401, "issuer " + LogSafe.quote(c.getValue("iss")) + " is not Google");
    }
    if (!(c.getValue("exp") instanceof Number exp) || exp.longValue() + SKEW_SECONDS < now) {
      throw new OidcRejection(401, "token expired or without exp");
    }
    if (!(c.getValue("iat") instanceof Number iat) || iat.longValue() - SKEW_SECONDS > now) {
      throw new OidcRejection(401, "token issued in the future or without iat");
    }
    if (!audienceMatches(c.getValue("aud"))) {
      throw new OidcRejection(403, "audience " + LogSafe.quote(c.getValue("aud")) + " is not " + audience);
    }
    if (!serviceAccountEmail.equals(c.getValue("email"))) {
      throw new OidcRejection(403, "email " + LogSafe.quote(c.getValue("email")) + " is not the task service account");
    }
    Object verified = c.getValue("email_verified");
    if (!(Boolean.TRUE.equals(verified) || "true".equals(verified))) {
      throw new OidcRejection(403, "email not verified");
    }
    return c;
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String s) {
      return s.equals(audience);
    }
    return aud instanceof JsonArray arr && arr.size() == 1 && audience.equals(arr.getValue(0));
  }

  public void close() {
    client.close();
  }

  /** A compact JWS split into its parts; nothing about it is trusted yet. */
  private record Jwt(String kid, String signingInput, byte[] signature, JsonObject claims) {

    static Jwt parse(String token) {
      if (token == null) {
        throw new OidcRejection(401, "no bearer token");
      }
      String[] parts = token.split("\\.", -1);
      if (parts.length != 3 || parts[2].isEmpty()) {
        throw new OidcRejection(401, "not a signed compact JWT");
      }
      try {
        JsonObject header = new JsonObject(new String(B64URL.decode(parts[0]), StandardCharsets.UTF_8));
        if (!"RS256".equals(header.getValue("alg"))) {
          throw new OidcRejection(401, "algorithm " + LogSafe.quote(header.getValue("alg")) + " is not RS256");
        }
        if (!(header.getValue("kid") instanceof String kid)) {
          throw new OidcRejection(401, "no key id");
        }
        JsonObject claims = new JsonObject(new String(B64URL.decode(parts[1]), StandardCharsets.UTF_8));
        return new Jwt(kid, parts[0] + "." + parts[1], B64URL.decode(parts[2]), claims);
      } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
        throw new OidcRejection(401, "malformed token");
      }
    }
  }
}
