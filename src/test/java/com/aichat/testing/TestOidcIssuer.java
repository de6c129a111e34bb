package com.aichat.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Base64;

/**
 * A local stand-in for Google's OIDC issuer: an RSA key whose JWKS the service is told to trust, and
 * RS256 ID tokens shaped like the ones Cloud Tasks attaches ({@code iss, aud, azp, sub, email,
 * email_verified, iat, exp}). Also mints the forgeries tests need: unsigned ({@code alg: none}),
 * signed by a key the JWKS does not hold, or with any claim changed.
 */
public final class TestOidcIssuer {

  public static final String KID = "test-key-1";
  public static final String GOOGLE_ISSUER = "https://accounts.google.com";

  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  public static final String ROTATED_KID = "test-key-2";

  private final KeyPair key = newKey();
  private final KeyPair rogue = newKey();
  private volatile KeyPair rotated;

  /** The JWKS document ({@code {keys: [...]}}) with the issuer's public key(s). */
  public JsonObject jwks() {
    JsonArray keys = new JsonArray().add(jwk(KID, (RSAPublicKey) key.getPublic()));
    KeyPair r = rotated;
    if (r != null) {
      keys.add(jwk(ROTATED_KID, (RSAPublicKey) r.getPublic()));
    }
    return new JsonObject().put("keys", keys);
  }

  /** Publishes a second key ({@link #ROTATED_KID}), as Google does when it rotates its keys. */
  public void rotate() {
    rotated = newKey();
  }

  /** Signs {@code claims} with the key published by {@link #rotate()}. */
  public String signWithRotatedKey(JsonObject claims) {
    return sign(header("RS256", ROTATED_KID), claims, rotated.getPrivate());
  }

  private static JsonObject jwk(String kid, RSAPublicKey pub) {
    return new JsonObject()
        .put("kty", "RSA")
        .put("alg", "RS256")
        .put("use", "sig")
        .put("kid", kid)
        .put("n", B64URL.encodeToString(unsigned(pub.getModulus())))
        .put("e", B64URL.encodeToString(unsigned(pub.getPublicExponent())));
  }

  /** The claims of a valid Cloud Tasks OIDC token for {@code email} and {@code audience}. */
  public static JsonObject claims(String email, String audience) {
    long now = Instant.now().getEpochSecond();
    return new JsonObject()
        .put("iss", GOOGLE_ISSUER)
        .put("aud", audience)
        .put("azp", "112233445566778899000")
        .put("sub", "112233445566778899000")
        .put("email", email)
        .put("email_verified", true)
        .put("iat", now)
        .put("exp", now + 3600);
  }

  /** A valid token for {@code email} and {@code audience}. */
  public String token(String email, String audience) {
    return sign(claims(email, audience));
  }

  /** Signs {@code claims} RS256 with the trusted key. */
  public String sign(JsonObject claims) {
    return sign(header("RS256", KID), claims, key.getPrivate());
  }

  /** Signs {@code claims} RS256 with the trusted key under an arbitrary header (e.g. a hostile kid). */
  public String signWithHeader(JsonObject header, JsonObject claims) {
    return sign(header, claims, key.getPrivate());
  }

  /** Signs {@code claims} with a key the JWKS does not contain, under its own key id. */
  public String signWithUnknownKey(JsonObject claims) {
    return sign(header("RS256", "rogue-key"), claims, rogue.getPrivate());
  }

  /** Signs {@code claims} with a foreign key but claims the trusted key id. */
  public String signWithWrongKeyForKnownKid(JsonObject claims) {
    return sign(header("RS256", KID), claims, rogue.getPrivate());
  }

  /** An unsigned token ({@code alg: none}, empty signature). */
  public String unsigned(JsonObject claims) {
    return encode(header("none", KID)) + "." + encode(claims) + ".";
  }

  private static JsonObject header(String alg, String kid) {
    return new JsonObject().put("alg", alg).put("kid", kid).put("typ", "JWT");
  }

  private static String sign(JsonObject header, JsonObject claims, PrivateKey pk) {
    String input = encode(header) + "." + encode(claims);
    try {
      Signature s = Signature.getInstance("SHA256withRSA");
      s.initSign(pk);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64URL.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String encode(JsonObject o) {
    return B64URL.encodeToString(o.encode().getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] unsigned(BigInteger v) {
    byte[] b = v.toByteArray();
    if (b.length > 1 && b[0] == 0) {
      byte[] out = new byte[b.length - 1];
      System.arraycopy(b, 1, out, 0, out.length);
      return out;
    }
    return b;
  }

  private static KeyPair newKey() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
