package com.aichat.persistence;

import com.aichat.persistence.service.PersistenceVerticle;
import com.aichat.config.NodeSettings;
import com.aichat.contract.ErrorCode;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/** Deploys {@link PersistenceVerticle} with explicit settings and classifies expected failures. */
final class PersistenceTestSupport {

  private PersistenceTestSupport() {}

  static MongoSettings embedded(String backend, int port) {
    return new MongoSettings(null, "chat", backend, port, 2000);
  }

  static MongoSettings external(String connectionString, String database, long selectionTimeoutMs) {
    return new MongoSettings(connectionString, database, "h2", 0, selectionTimeoutMs);
  }

  static NodeSettings node(Path dataDir) {
    return new NodeSettings(dataDir, "http://localhost:8080");
  }

  static Future<String> deploy(Vertx vertx, MongoSettings settings, Path dataDir) {
    return vertx.deployVerticle(
        new PersistenceVerticle(settings, node(dataDir)), new DeploymentOptions());
  }

  /** Succeeds with the error code when {@code f} fails, fails when {@code f} succeeds. */
  static Future<ErrorCode> failureOf(Future<?> f) {
    return f.transform(ar -> ar.succeeded()
        ? Future.failedFuture(new AssertionError("expected a failure but got " + ar.result()))
        : Future.succeededFuture(ErrorCode.fromThrowable(ar.cause())));
  }

  /** Succeeds with the failure itself when {@code f} fails. */
  static Future<Throwable> errorOf(Future<?> f) {
    return f.transform(ar -> ar.succeeded()
        ? Future.failedFuture(new AssertionError("expected a failure but got " + ar.result()))
        : Future.succeededFuture(ar.cause()));
  }
}
