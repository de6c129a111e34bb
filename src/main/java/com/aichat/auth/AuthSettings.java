package com.aichat.auth;

import com.aichat.config.ConfigException;
import com.aichat.config.ConfigReader;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code auth.*}: how bearer JWTs are verified (REST API and Socket.IO handshake alike).
 *
 * <p>Exactly one key source applies: {@code auth.hs256_secret}, or {@code auth.jwks_url} (RS256/ES256
 * keys), or, only on the embedded default (no {@code mongo.connection_string}), a random HS256 secret
 * generated once and kept in {@code <node.data_dir>/dev-jwt-secret}. Outside the embedded default,
 * startup is refused without an explicit secret or JWKS. With a JWKS, {@code auth.audience} is
 * required unless {@code auth.allow_any_audience} is true, and the JWKS URL must be https (plain http
 * only on loopback).
 *
 * @param hs256Secret {@code auth.hs256_secret}: at least 32 characters
 * @param jwksUrl {@code auth.jwks_url}: JWKS document with the signing keys
 * @param jwksRefreshSeconds {@code auth.jwks_refresh_seconds} (default 600)
 * @param issuer {@code auth.issuer}: required {@code iss}, if set
 * @param audience {@code auth.audience}: required {@code aud}, if set
 * @param userIdClaim {@code auth.user_id_claim} (default {@code sub}): must hold a 24-hex ObjectId
 * @param leewaySeconds {@code auth.leeway_seconds} (default 5): clock skew allowed on exp/nbf/iat
 * @param devSecretFile where the generated dev secret lives (null unless that mode applies)
 * @param devPublicBind {@code auth.dev_public_bind} (default false): while the generated dev secret is
 *     in use, {@code http.host} and {@code gateway.host} are replaced by {@code 127.0.0.1} unless they
 *     already name loopback or this is true (the container image sets it: {@code CHAT_AUTH_DEV_PUBLIC_BIND})
 * @param devWithApiKey {@code auth.dev_with_api_key} (default false): startup is refused while the
 *     generated dev secret is in use and replies come from Claude (a Claude API key), unless this is
 *     true, since anyone who reaches {@code POST /dev/token} can then spend the key
 * @param devTokensPerMinute {@code auth.dev_tokens_per_minute} (default 10): one-click
 *     {@code POST /dev/token} sign-ins per remote address per minute; more get 429 {@code RATE_LIMITED}
 */
public record AuthSettings(
    String hs256Secret,
    String jwksUrl,
    long jwksRefreshSeconds,
    String issuer,
    String audience,
    String userIdClaim,
    int leewaySeconds,
    Path devSecretFile,
    boolean devPublicBind,
    boolean devWithApiKey,
    int devTokensPerMinute) {

  /** Loopback, where a node on the generated dev secret listens unless {@code auth.dev_public_bind}. */
  public static final String LOOPBACK = "127.0.0.1";
  static final int DEFAULT_DEV_TOKENS_PER_MINUTE = 10;

  /** Settings with the dev-mode guards at their defaults. */
  public AuthSettings(String hs256Secret, String jwksUrl, long jwksRefreshSeconds, String issuer, String audience,
      String userIdClaim, int leewaySeconds, Path devSecretFile) {
    this(hs256Secret, jwksUrl, jwksRefreshSeconds, issuer, audience, userIdClaim, leewaySeconds, devSecretFile,
        false, false, DEFAULT_DEV_TOKENS_PER_MINUTE);
  }

  public static final String DEV_SECRET_FILE_NAME = "dev-jwt-secret";
  private static final Logger log = LoggerFactory.getLogger(AuthSettings.class);

  public boolean usesDevSecret() {
    return devSecretFile != null;
  }

  /** Never prints the secret (a record's default toString would, e.g. inside a logged AppConfig). */
  @Override
  public String toString() {
    return "AuthSettings[hs256Secret=" + (hs256Secret == null ? "unset" : "set") + ", jwksUrl=" + jwksUrl
        + ", issuer=" + issuer + ", audience=" + audience + ", userIdClaim=" + userIdClaim
        + ", leewaySeconds=" + leewaySeconds + ", devSecretFile=" + devSecretFile + ", devPublicBind=" + devPublicBind
        + ", devWithApiKey=" + devWithApiKey + ", devTokensPerMinute=" + devTokensPerMinute + "]";
  }

  /**
   * The address to listen on for a configured {@code host} ({@code key} names it in the log): itself,
   * unless the generated dev secret is in use, {@code host} is not loopback and
   * {@code auth.dev_public_bind} is false; then {@link #LOOPBACK}, with a warning.
   */
  public String bindHost(String host, String key) {
    if (!usesDevSecret() || devPublicBind || ConfigReader.isLoopbackHost(host)) {
      return host;
    }
    log.warn("{} is {}, but the generated dev secret is in use (anyone who reaches POST /dev/token gets a token):"
        + " listening on {} instead. Configure auth.hs256_secret or auth.jwks_url for a reachable service, or set"
        + " auth.dev_public_bind to true (CHAT_AUTH_DEV_PUBLIC_BIND) to listen on {} anyway", key, host, LOOPBACK, host);
    return LOOPBACK;
  }

  /**
   * Refuses the generated dev secret together with a real model key ({@code claudeInUse}) unless
   * {@code auth.dev_with_api_key} says so.
   */
  public void checkDevSecretWithApiKey(boolean claudeInUse) {
    if (usesDevSecret() && claudeInUse && !devWithApiKey) {
      throw new ConfigException("Invalid configuration: replies come from Claude (claude.api_key, CHAT_CLAUDE_API_KEY"
          + " or ANTHROPIC_API_KEY is set) while the generated dev secret signs tokens (no auth.hs256_secret or"
          + " auth.jwks_url): anyone who reaches POST /dev/token could spend the API key. Set auth.hs256_secret"
          + " (CHAT_AUTH_HS256_SECRET) or auth.jwks_url (CHAT_AUTH_JWKS_URL); or, for a trial on your own machine,"
          + " set auth.dev_with_api_key to true (CHAT_AUTH_DEV_WITH_API_KEY)");
    }
  }

  /**
   * A JWKS usually belongs to an identity provider that issues tokens for other applications too, so
   * {@code aud} must name this service: {@code auth.audience} is required unless
   * {@code auth.allow_any_audience} opts out deliberately. A missing {@code auth.issuer} is a warning.
   */
  private static void checkJwksClaims(ConfigReader r, String issuer, String audience, boolean anyAudience) {
    if (audience == null && !anyAudience) {
      throw r.error("audience", "is required with auth.jwks_url: without it, tokens the identity provider issues"
          + " for other applications are accepted (to accept any audience deliberately, set"
          + " auth.allow_any_audience to true, CHAT_AUTH_ALLOW_ANY_AUDIENCE)");
    }
    if (audience == null) {
      log.warn("auth.allow_any_audience is true: tokens for any audience signed by the JWKS keys are accepted");
    }
    if (issuer == null) {
      log.warn("auth.jwks_url is set without auth.issuer (CHAT_AUTH_ISSUER): the token issuer is not checked;"
          + " set it to your identity provider's issuer");
    }
  }

  public static AuthSettings from(ConfigReader r, boolean embeddedDefault, Path dataDir) {
    String secret = r.optString("hs256_secret");
    String jwks = r.optKeyUrl("jwks_url");
    if (secret != null && jwks != null) {
      throw new ConfigException(
          "Invalid configuration: set only one of auth.hs256_secret (CHAT_AUTH_HS256_SECRET) and auth.jwks_url (CHAT_AUTH_JWKS_URL)");
    }
    if (secret != null && secret.length() < 32) {
      throw r.error("hs256_secret", "must be at least 32 characters");
    }
    Path devFile = null;
    if (secret == null && jwks == null) {
      if (!embeddedDefault) {
        throw new ConfigException(
            "Invalid configuration: auth.hs256_secret (CHAT_AUTH_HS256_SECRET) or auth.jwks_url (CHAT_AUTH_JWKS_URL) is required when mongo.connection_string is set; the generated dev secret is only for the embedded default");
      }
      devFile = dataDir.resolve(DEV_SECRET_FILE_NAME);
    }
    String issuer = r.optString("issuer");
    String audience = r.optString("audience");
    boolean anyAudience = r.bool("allow_any_audience", false);
    if (jwks != null) {
      checkJwksClaims(r, issuer, audience, anyAudience);
    }
    String claim = r.string("user_id_claim", "sub");
    if (claim.isBlank()) {
      throw r.error("user_id_claim", "must not be empty");
    }
    return new AuthSettings(
        secret,
        jwks,
        r.longValue("jwks_refresh_seconds", 600, 10, 86_400),
        issuer,
        audience,
        claim,
        r.intValue("leeway_seconds", 5, 0, 300),
        devFile,
        r.bool("dev_public_bind", false),
        r.bool("dev_with_api_key", false),
        r.intValue("dev_tokens_per_minute", DEFAULT_DEV_TOKENS_PER_MINUTE, 1, 100_000));
  }
}
