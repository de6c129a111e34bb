package com.aichat.testing;

import com.aichat.Main;
import com.aichat.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Starts the real service inside a test: {@code conf/config.json} defaults, then test overrides (the
 * in-memory embedded MongoDB, free ports, a temp data dir, a known HS256 secret), then the caller's
 * overrides, validated by {@link AppConfig#from} and deployed by {@link Main#start}.
 */
public final class TestApp {

  /** The HS256 secret every test app trusts; mint tokens with {@link TestTokens}. */
  public static final String TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

  private final AppConfig config;
  private final List<String> deploymentIds;

  private TestApp(AppConfig config, List<String> deploymentIds) {
    this.config = config;
    this.deploymentIds = deploymentIds;
  }

  public AppConfig config() {
    return config;
  }

  public int httpPort() {
    return config.http().port();
  }

  public int gatewayPort() {
    return config.gateway().port();
  }

  public List<String> deploymentIds() {
    return deploymentIds;
  }

  /** The configuration a test app runs with: defaults + test overrides + {@code overrides}. */
  public static JsonObject config(Path dataDir, JsonObject overrides) {
    JsonObject base = defaults();
    int httpPort = freePort();
    JsonObject test =
        new JsonObject()
            .put("node", new JsonObject()
                .put("data_dir", dataDir.toString())
                .put("public_base_url", "http://localhost:" + httpPort))
            .put("mongo", new JsonObject().put("embedded_backend", "memory"))
            .put("http", new JsonObject().put("host", "127.0.0.1").put("port", httpPort))
            .put("gateway", new JsonObject().put("host", "127.0.0.1").put("port", freePort()))
            .put("auth", new JsonObject().put("hs256_secret", TEST_SECRET))
            .put("dispatch", new JsonObject().put("sweep_interval_ms", 500).put("pending_grace_ms", 2000))
            .put("offline", new JsonObject().put("chunk_delay_ms", 5));
    base.mergeIn(test, true);
    if (overrides != null) {
      base.mergeIn(overrides, true);
    }
    return base;
  }

  public static Future<TestApp> start(Vertx vertx, Path dataDir) {
    return start(vertx, dataDir, new JsonObject());
  }

  public static Future<TestApp> start(Vertx vertx, Path dataDir, JsonObject overrides) {
    AppConfig cfg;
    try {
      cfg = AppConfig.from(config(dataDir, overrides));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return Main.start(vertx, cfg).map(ids -> new TestApp(cfg, ids));
  }

  /** The repository's {@code conf/config.json}. */
  public static JsonObject defaults() {
    try {
      return new JsonObject(Files.readString(Path.of("conf/config.json")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Completes once {@code condition} holds, checked every 10 ms on {@code vertx}. */
  public static Future<Void> until(Vertx vertx, java.util.function.BooleanSupplier condition) {
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    vertx.setPeriodic(10, id -> {
      if (condition.getAsBoolean()) {
        vertx.cancelTimer(id);
        p.tryComplete();
      }
    });
    return p.future();
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
