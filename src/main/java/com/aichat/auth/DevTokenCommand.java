package com.aichat.auth;

import com.aichat.config.ConfigException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar chat-service.jar dev-token [userId] [--ttl seconds] [--claim path=value]...}: prints
 * a bearer token for a
 * user, signed with the node's HS256 key (the generated dev secret of the embedded default, created if
 * needed, or {@code auth.hs256_secret}). Without a user id it makes up a new ObjectId and prints it on
 * the line before the token. The configuration is loaded exactly as the service loads it, so the token
 * carries the configured issuer and audience and fits the configured data dir. {@code --claim}
 * adds a string claim at a dotted path (e.g. {@code subscription.status=active}), to try the
 * subscription and quota checks locally.
 */
public final class DevTokenCommand {

  public static final String NAME = "dev-token";
  private static final Logger log = LoggerFactory.getLogger(DevTokenCommand.class);
  static final int DEFAULT_TTL_SECONDS = 24 * 3600;

  /** Parsed arguments. */
  record Args(String userId, boolean generated, int ttlSeconds, Map<String, String> claims) {
    Args(String userId, boolean generated, int ttlSeconds) {
      this(userId, generated, ttlSeconds, Map.of());
    }
  }

  private DevTokenCommand() {}

  /**
   * Runs the command with the node's auth settings (loaded and validated by the caller) and returns
   * the process exit code.
   */
  public static Future<Integer> run(Vertx vertx, Future<AuthSettings> auth, List<String> args, PrintStream out) {
    Args parsed;
    try {
      parsed = parse(args);
    } catch (IllegalArgumentException e) {
      log.error("{}; usage: dev-token [userId] [--ttl seconds] [--claim path=value]...", e.getMessage());
      return Future.succeededFuture(2);
    }
    return auth
        .compose(settings -> mint(vertx, settings, parsed))
        .map(token -> {
          // Printing the token is this command's whole purpose; stdout keeps it pipeable.
          if (parsed.generated()) {
            out.println(parsed.userId());
          }
          out.println(token);
          return 0;
        })
        .recover(err -> {
          log.error(err instanceof ConfigException ? err.getMessage() : "dev-token failed: " + err.getMessage());
          return Future.succeededFuture(1);
        });
  }

  static Args parse(List<String> args) {
    String userId = null;
    int ttl = DEFAULT_TTL_SECONDS;
    Map<String, String> claims = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--ttl")) {
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException("--ttl needs a number of seconds");
        }
        ttl = parseTtl(args.get(++i));
      } else if (a.startsWith("--ttl=")) {
        ttl = parseTtl(a.substring("--ttl=".length()));
      } else if (a.equals("--claim")) {
        if (i + 1 >= args.size() || !args.get(i + 1).matches("[^=\\s]+=.*")) {
          throw new IllegalArgumentException("--claim needs path=value");
        }
        String[] kv = args.get(++i).split("=", 2);
        claims.put(kv[0], kv[1]);
      } else if (userId == null && !a.startsWith("-")) {
        userId = a;
      } else {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
    }
    if (userId != null && !ObjectId.isValid(userId)) {
      throw new IllegalArgumentException("userId must be a 24-hex ObjectId");
    }
    boolean generated = userId == null;
    return new Args(
        generated ? new ObjectId().toHexString() : userId.toLowerCase(), generated, ttl, Map.copyOf(claims));
  }

  private static int parseTtl(String s) {
    try {
      int ttl = Integer.parseInt(s);
      if (ttl < 1 || ttl > 366 * 24 * 3600) {
        throw new IllegalArgumentException("--ttl must be between 1 and 31622400 seconds");
      }
      return ttl;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--ttl must be a number of seconds");
    }
  }

  /**
   * A token for {@code userId}, valid {@code ttlSeconds}, signed as {@code dev-token} signs (the
   * one-click sign-in of the web client uses it while the dev secret is in use).
   */
  public static Future<String> mintFor(Vertx vertx, AuthSettings auth, String userId, int ttlSeconds) {
    return mint(vertx, auth, new Args(userId, false, ttlSeconds));
  }

  static Future<String> mint(Vertx vertx, AuthSettings auth, Args args) {
    if (auth.jwksUrl() != null) {
      return Future.failedFuture(new IllegalStateException(
          "auth.jwks_url is configured: tokens come from your identity provider, not from dev-token"));
    }
    Future<String> secret = auth.usesDevSecret()
        ? DevSecretStore.loadOrCreate(vertx, auth.devSecretFile())
        : Future.succeededFuture(auth.hs256Secret());
    return secret.map(s -> sign(vertx, s, auth, args));
  }

  private static String sign(Vertx vertx, String secret, AuthSettings auth, Args args) {
    JWTAuth jwt = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    JWTOptions opts = new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(args.ttlSeconds());
    if (auth.issuer() != null) {
      opts.setIssuer(auth.issuer());
    }
    if (auth.audience() != null) {
      opts.setAudience(List.of(auth.audience()));
    }
    JsonObject claims = new JsonObject();
    args.claims().forEach((path, value) -> putPath(claims, path, value));
    putPath(claims, auth.userIdClaim(), args.userId());
    return jwt.generateToken(claims, opts);
  }

  /** Puts {@code value} at a dotted claim path, creating the nested objects. */
  private static void putPath(JsonObject claims, String path, Object value) {
    String[] steps = path.split("\\.");
    JsonObject node = claims;
    for (int i = 0; i < steps.length - 1; i++) {
      JsonObject next = node.getJsonObject(steps[i]);
      if (next == null) {
        next = new JsonObject();
        node.put(steps[i], next);
      }
      node = next;
    }
    node.put(steps[steps.length - 1], value);
  }
}
