package com.aichat.persistence.service;

import com.aichat.config.NodeSettings;
import com.aichat.embedded.EmbeddedMongo;
import com.aichat.persistence.MongoSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The service's one adapter to the embedded MongoDB-wire engine ({@code com.aichat.embedded}): it
 * starts the engine for {@code mongo.embedded} on the node's data directory, tells where to connect,
 * and stops it. Nothing else in the service touches the engine (docs/architecture.md, enforced by
 * ArchitectureTest). Start and stop block (files, sockets), so they run on a worker thread.
 */
final class EmbeddedDatabase {

  private final EmbeddedMongo server;

  private EmbeddedDatabase(EmbeddedMongo server) {
    this.server = server;
  }

  static Future<EmbeddedDatabase> start(Vertx vertx, MongoSettings settings, NodeSettings node) {
    return vertx.executeBlocking(() -> new EmbeddedDatabase(
        EmbeddedMongo.start(settings.embeddedBackend(), node.dataDir(), settings.embeddedPort())));
  }

  String connectionString() {
    return server.connectionString();
  }

  String description() {
    return server.description();
  }

  Future<Void> stop(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      server.stop();
      return null;
    });
  }
}
