package com.aichat.persistence;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.List;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.DisplayName;
import org.testcontainers.containers.MongoDBContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * {@link QueryShapeIndexTest} on a real MongoDB, read from its profiler ({@code planSummary}).
 * Skipped where Docker is not available; {@link EmbeddedQueryShapeIndexTest} checks the same list here.
 */
@Testcontainers(disabledWithoutDocker = true)
@DisplayName("Every store query is index-served on a real MongoDB (Testcontainers)")
class MongoContainerQueryShapeIndexTest extends QueryShapeIndexTest {

  @Container
  static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

  private final String database = "q" + new ObjectId().toHexString();

  @Override
  protected MongoClient deploy(Vertx vertx, Path dataDir) {
    String url = MONGO.getReplicaSetUrl();
    PersistenceTestSupport.deploy(vertx, PersistenceTestSupport.external(url, database, 5000), dataDir).await();
    return MongoClient.create(vertx, new JsonObject().put("connection_string", url).put("db_name", database));
  }

  @Override
  protected void startRecording() {
    direct.runCommand("profile", new JsonObject().put("profile", 2)).await();
  }

  @Override
  protected List<RecordedQuery> recorded() {
    List<JsonObject> ops = direct.findWithOptions("system.profile",
        new JsonObject().put("planSummary", new JsonObject().put("$exists", true)),
        new FindOptions().setLimit(10_000)).await();
    return ops.stream()
        .map(op -> new RecordedQuery(op.getString("ns").substring(database.length() + 1),
            op.getString("op") + " " + op.getValue("command"), op.getString("planSummary"),
            !op.getString("planSummary").startsWith("COLLSCAN")))
        .filter(q -> COLLECTIONS.contains(q.collection()))
        .toList();
  }
}
