package com.aichat.testing;

import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hand-built JWS tokens for authentication tests: any header (including {@code alg: none}), any
 * claims, signed HS256 / RS256 / ES256 with the JDK, plus the JWK JSON of generated key pairs.
 */
public final class TestJws {

  private TestJws() {}

  public static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String b64(JsonObject json) {
    return b64(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** Claims {@code sub} + {@code exp} one hour ahead. */
  public static JsonObject claims(String sub) {
    return new JsonObject().put("sub", sub).put("exp", Instant.now().getEpochSecond() + 3600);
  }

  public static String unsigned(JsonObject claims) {
    return b64(new JsonObject().put("alg", "none").put("typ", "JWT")) + "." + b64(claims) + ".";
  }

  public static String hs256(String secret, JsonObject claims) {
    return hs256(secret.getBytes(StandardCharsets.UTF_8), new JsonObject(), claims);
  }

  public static String hs256(byte[] key, JsonObject extraHeader, JsonObject claims) {
    JsonObject header = new JsonObject().put("alg", "HS256").put("typ", "JWT").mergeIn(extraHeader);
    String input = b64(header) + "." + b64(claims);
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return input + "." + b64(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair rsaKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  public static KeyPair ecKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The public JWK of an RSA key pair (no {@code alg}, as many providers publish it). */
  public static JsonObject rsaJwk(KeyPair kp, String kid) {
    RSAPublicKey pub = (RSAPublicKey) kp.getPublic();
    return new JsonObject().put("kty", "RSA").put("kid", kid).put("use", "sig")
        .put("n", b64(unsigned(pub.getModulus())))
        .put("e", b64(unsigned(pub.getPublicExponent())));
  }

  public static JsonObject ecJwk(KeyPair kp, String kid) {
    ECPublicKey pub = (ECPublicKey) kp.getPublic();
    return new JsonObject().put("kty", "EC").put("kid", kid).put("crv", "P-256").put("alg", "ES256")
        .put("x", b64(fixed(pub.getW().getAffineX(), 32)))
        .put("y", b64(fixed(pub.getW().getAffineY(), 32)));
  }

  public static String rs256(KeyPair kp, String kid, JsonObject claims) {
    return sign("RS256", "SHA256withRSA", kp, kid, claims);
  }

  public static String es256(KeyPair kp, String kid, JsonObject claims) {
    return sign("ES256", "SHA256withECDSAinP1363Format", kp, kid, claims);
  }

  private static String sign(String alg, String jca, KeyPair kp, String kid, JsonObject claims) {
    JsonObject header = new JsonObject().put("alg", alg).put("typ", "JWT").put("kid", kid);
    String input = b64(header) + "." + b64(claims);
    try {
      Signature sig = Signature.getInstance(jca);
      sig.initSign(kp.getPrivate());
      sig.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + b64(sig.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] unsigned(BigInteger n) {
    byte[] b = n.toByteArray();
    return b.length > 1 && b[0] == 0 ? Arrays.copyOfRange(b, 1, b.length) : b;
  }

  private static byte[] fixed(BigInteger n, int len) {
    byte[] b = unsigned(n);
    byte[] out = new byte[len];
    System.arraycopy(b, 0, out, len - b.length, b.length);
    return out;
  }
}
