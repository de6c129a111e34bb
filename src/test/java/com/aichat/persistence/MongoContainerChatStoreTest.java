package com.aichat.persistence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.testcontainers.containers.MongoDBContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The store contract on a real MongoDB (the production path), one fresh database per test. Skipped
 * where Docker is not available.
 */
@Testcontainers(disabledWithoutDocker = true)
@DisplayName("ChatStore contract on a real MongoDB (Testcontainers)")
class MongoContainerChatStoreTest extends ChatStoreContractTest {

  @Container
  static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

  @Override
  protected Future<Target> deployStore(Vertx vertx, Path dataDir) {
    String url = MONGO.getReplicaSetUrl();
    String database = "t" + new ObjectId().toHexString();
    return PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.external(url, database, 5000), dataDir)
        .map(id -> new Target(url, database));
  }
}
