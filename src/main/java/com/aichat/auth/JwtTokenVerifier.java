package com.aichat.auth;

import com.aichat.contract.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link TokenVerifier} of the service (vertx-auth-jwt). HS256 with {@code auth.hs256_secret} or
 * the generated dev secret; or the RS/ES keys of {@code auth.jwks_url}, refreshed every
 * {@code auth.jwks_refresh_seconds} and, when a token names an unknown {@code kid}, at most once per
 * {@link #UNKNOWN_KID_REFRESH_MS}.
 *
 * <p>The algorithm in the token header must be one this key source can produce: HS256 for a secret,
 * an asymmetric algorithm for JWKS. So {@code alg: none} and algorithm confusion (an RS256 public key
 * used as an HMAC secret) are refused before any key is touched. The signature is checked by
 * vertx-auth-jwt; expiry, not-before, issued-at, issuer and audience are checked here, so that each
 * refusal has its own short reason. A token must carry {@code exp}. The time claims must be
 * NumericDates (a number of seconds from 0 to {@link #MAX_NUMERIC_DATE}, year 9999): any other type or
 * range is refused as {@code invalid <claim> claim} before the token reaches vertx-auth-jwt, which
 * would otherwise fail with an exception (a 500).
 */
public final class JwtTokenVerifier implements TokenVerifier {

  private static final Logger log = LoggerFactory.getLogger(JwtTokenVerifier.class);
  static final long UNKNOWN_KID_REFRESH_MS = 5_000;
  private static final Set<String> HMAC_ALGS = Set.of("HS256");
  /** The latest NumericDate accepted in {@code exp}, {@code nbf} and {@code iat}: 9999-12-31T23:59:59Z. */
  static final long MAX_NUMERIC_DATE = 253_402_300_799L;
  private static final List<String> TIME_CLAIMS = List.of("exp", "nbf", "iat");

  private final long unknownKidRefreshMs;

  /** The keys in use: a provider for signatures, plus the kids and algorithms they cover. */
  private record KeySet(JWTAuth auth, Set<String> kids, Set<String> algs) {}

  private final Vertx vertx;
  private final AuthSettings settings;
  private final JwksKeySource jwks;
  // volatile: the gateway may call verify() from threads other than the creating context
  private volatile KeySet keys;
  private volatile long lastRefreshAttempt;
  private volatile Future<Void> refreshing;

  private JwtTokenVerifier(
      Vertx vertx, AuthSettings settings, JwksKeySource jwks, KeySet keys, long unknownKidRefreshMs) {
    this.vertx = vertx;
    this.unknownKidRefreshMs = unknownKidRefreshMs;
    this.settings = settings;
    this.jwks = jwks;
    this.keys = keys;
  }

  /**
   * A verifier for {@code settings}. For the dev secret it reads (or first generates) the secret file;
   * for JWKS it fetches the keys once and schedules the refresh. An unreachable JWKS does not stop
   * startup: requests answer 503 until the keys arrive.
   */
  public static Future<TokenVerifier> create(Vertx vertx, AuthSettings settings) {
    return create(vertx, settings, UNKNOWN_KID_REFRESH_MS);
  }

  /** As {@link #create(Vertx, AuthSettings)}, with the minimum gap between unknown-kid refreshes. */
  static Future<TokenVerifier> create(Vertx vertx, AuthSettings settings, long unknownKidRefreshMs) {
    if (settings.jwksUrl() != null) {
      JwtTokenVerifier v = new JwtTokenVerifier(
          vertx, settings, new JwksKeySource(vertx, settings.jwksUrl()), null, unknownKidRefreshMs);
      vertx.setPeriodic(settings.jwksRefreshSeconds() * 1000, id -> v.refresh());
      return v.refresh().otherwiseEmpty().map(x -> v);
    }
    Future<String> secret =
        settings.usesDevSecret()
            ? DevSecretStore.loadOrCreate(vertx, settings.devSecretFile())
            : Future.succeededFuture(settings.hs256Secret());
    return secret.map(s -> new JwtTokenVerifier(vertx, settings, null, hmacKeys(vertx, s), unknownKidRefreshMs));
  }

  private static KeySet hmacKeys(Vertx vertx, String secret) {
    JWTAuth auth = JWTAuth.create(vertx, baseOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    return new KeySet(auth, Set.of(), Set.of("HS256"));
  }

  private static JWTAuthOptions baseOptions() {
    // Only the signature is left to vertx-auth-jwt; time, issuer and audience are checked below.
    return new JWTAuthOptions().setJWTOptions(new JWTOptions().setIgnoreExpiration(true));
  }

  private Future<Void> refresh() {
    if (refreshing != null) {
      return refreshing;
    }
    lastRefreshAttempt = System.currentTimeMillis();
    refreshing = jwks.fetch()
        .map(this::install)
        .onFailure(err -> log.warn("cannot refresh JWKS keys: {}", err.getMessage()))
        .eventually(() -> {
          refreshing = null;
          return Future.succeededFuture();
        });
    return refreshing;
  }

  private Void install(List<JsonObject> jwkList) {
    Set<String> kids = new HashSet<>();
    Set<String> algs = new HashSet<>();
    JWTAuthOptions opts = baseOptions();
    for (JsonObject jwk : jwkList) {
      opts.addJwk(jwk);
      algs.add(jwk.getString("alg"));
      if (jwk.getString("kid") != null) {
        kids.add(jwk.getString("kid"));
      }
    }
    keys = new KeySet(JWTAuth.create(vertx, opts), kids, algs);
    return null;
  }

  @Override
  public Future<AuthenticatedUser> verify(String token) {
    if (token == null || token.isBlank()) {
      return refuse("missing bearer token");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      return refuse("malformed token");
    }
    JsonObject header;
    JsonObject payload;
    try {
      header = decodePart(parts[0]);
      payload = decodePart(parts[1]);
    } catch (RuntimeException e) {
      return refuse("malformed token");
    }
    String alg = header.getValue("alg") instanceof String s ? s : null;
    if (alg == null || alg.equalsIgnoreCase("none")) {
      return refuse("unsigned tokens are not accepted");
    }
    if (!(jwks == null ? HMAC_ALGS : JwksKeySource.ASYMMETRIC_ALGS).contains(alg)) {
      return refuse("algorithm " + safeAlg(alg) + " is not accepted");
    }
    String badTimeClaim = badTimeClaim(payload);
    if (badTimeClaim != null) {
      return refuse("invalid " + badTimeClaim + " claim");
    }
    return keysFor(header.getValue("kid") instanceof String k ? k : null)
        .compose(ks -> checkSignature(ks, alg, token))
        .compose(v -> checkClaims(payload));
  }

  private static JsonObject decodePart(String part) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8));
  }

  private Future<KeySet> keysFor(String kid) {
    if (jwks == null) {
      return Future.succeededFuture(keys);
    }
    boolean known = keys != null && (kid == null || keys.kids().contains(kid));
    boolean mayRefresh = System.currentTimeMillis() - lastRefreshAttempt >= unknownKidRefreshMs;
    Future<Void> ready = known || !mayRefresh ? Future.succeededFuture() : refresh().otherwiseEmpty();
    return ready.compose(v -> {
      if (keys == null) {
        return Future.failedFuture(ErrorCode.UNAVAILABLE.failure("token signing keys are not available yet"));
      }
      if (kid != null && !keys.kids().contains(kid)) {
        return refuse("unknown signing key");
      }
      return Future.succeededFuture(keys);
    });
  }

  private Future<Void> checkSignature(KeySet ks, String alg, String token) {
    if (!ks.algs().contains(alg)) {
      return refuse("algorithm " + safeAlg(alg) + " is not accepted");
    }
    Future<?> checked;
    try {
      checked = ks.auth().authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      // vertx-auth-jwt throws (rather than fails) on claims it cannot read; never a 500
      return refuse("malformed token");
    }
    return checked.<Void>mapEmpty().recover(err -> refuse("invalid signature"));
  }

  /** The first of exp/nbf/iat that is present but not a NumericDate in range, or null. */
  private static String badTimeClaim(JsonObject claims) {
    for (String name : TIME_CLAIMS) {
      Object v = claims.getValue(name);
      if (v != null && seconds(v) < 0) {
        return name;
      }
    }
    return null;
  }

  /** A NumericDate in whole seconds, or -1 when {@code v} is not a number from 0 to the maximum. */
  static long seconds(Object v) {
    if (!(v instanceof Number n)) {
      return -1;
    }
    double d = n.doubleValue(); // also for BigInteger/BigDecimal, which longValue() would wrap
    return d >= 0 && d <= MAX_NUMERIC_DATE ? (long) Math.floor(d) : -1;
  }

  private static String safeAlg(String alg) {
    return alg.length() <= 10 && alg.matches("[A-Za-z0-9]+") ? alg : "in header";
  }

  private Future<AuthenticatedUser> checkClaims(JsonObject claims) {
    long now = Instant.now().getEpochSecond();
    int leeway = settings.leewaySeconds();
    // The types and ranges were checked before the signature (badTimeClaim).
    Object exp = claims.getValue("exp");
    if (exp == null) {
      return refuse("token has no expiry");
    }
    long expSeconds = seconds(exp);
    if (expSeconds + leeway <= now) {
      return refuse("token expired");
    }
    Object nbf = claims.getValue("nbf");
    if (nbf != null && seconds(nbf) - leeway > now) {
      return refuse("token not yet valid");
    }
    Object iat = claims.getValue("iat");
    if (iat != null && seconds(iat) - leeway > now) {
      return refuse("token issued in the future");
    }
    if (settings.issuer() != null && !settings.issuer().equals(claims.getValue("iss"))) {
      return refuse("wrong issuer");
    }
    if (settings.audience() != null && !audienceMatches(claims.getValue("aud"))) {
      return refuse("wrong audience");
    }
    Object uid = ClaimPath.read(claims, settings.userIdClaim());
    if (uid == null) {
      return refuse("token has no user id claim");
    }
    if (!(uid instanceof String s) || !s.matches("[0-9a-fA-F]{24}")) {
      return refuse("user id claim is not an ObjectId");
    }
    return Future.succeededFuture(new AuthenticatedUser(
        s.toLowerCase(Locale.ROOT), claims, Instant.ofEpochSecond(expSeconds)));
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String s) {
      return s.equals(settings.audience());
    }
    if (aud instanceof io.vertx.core.json.JsonArray arr) {
      return arr.contains(settings.audience());
    }
    return false;
  }

  private static <T> Future<T> refuse(String reason) {
    return Future.failedFuture(ErrorCode.UNAUTHENTICATED.failure(reason));
  }
}
