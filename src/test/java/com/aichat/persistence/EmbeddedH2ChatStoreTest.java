package com.aichat.persistence;

import com.aichat.testing.TestApp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;

/** The store contract on the embedded server's durable H2 backend (the production default). */
@DisplayName("ChatStore contract on the embedded durable H2 MongoDB")
class EmbeddedH2ChatStoreTest extends ChatStoreContractTest {

  @Override
  protected Future<Target> deployStore(Vertx vertx, Path dataDir) {
    int port = TestApp.freePort();
    return PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.embedded("h2", port), dataDir)
        .map(id -> new Target("mongodb://127.0.0.1:" + port, "chat"));
  }
}
