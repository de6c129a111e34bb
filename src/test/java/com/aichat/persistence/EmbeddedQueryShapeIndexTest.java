package com.aichat.persistence;

import com.aichat.embedded.index.PlanLog;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;

/** {@link QueryShapeIndexTest} on the embedded server (H2, the default), read from its plan log. */
@DisplayName("Every store query is index-served on the embedded server")
class EmbeddedQueryShapeIndexTest extends QueryShapeIndexTest {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedQueryShapeIndexTest.class);

  @Override
  protected MongoClient deploy(Vertx vertx, Path dataDir) {
    return deployEmbedded(vertx, dataDir, "h2");
  }

  @Override
  protected void startRecording() {
    direct.runCommand(PlanLog.COMMAND,
        new JsonObject().put(PlanLog.COMMAND, 1).put("enable", true).put("reset", true)).await();
  }

  @Override
  protected List<RecordedQuery> recorded() {
    JsonObject answer = direct.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1)).await();
    List<RecordedQuery> out = new ArrayList<>();
    for (Object o : answer.getJsonArray("shapes")) {
      JsonObject s = (JsonObject) o;
      String collection = s.getString("ns").substring(s.getString("ns").indexOf('.') + 1);
      if (COLLECTIONS.contains(collection)) {
        String plan = s.getString("plan") + " keys<=" + s.getLong("maxKeysExamined")
            + " docs<=" + s.getLong("maxDocsExamined");
        // Served by an index, and never reading the other user's 40 messages.
        boolean indexed = s.getString("plan").startsWith("IXSCAN") && s.getLong("maxDocsExamined") < 20;
        log.info("{} {} sort [{}]: {}", collection, s.getString("filter"), s.getString("sort"), plan);
        out.add(new RecordedQuery(collection, s.getString("filter") + " sort " + s.getString("sort"), plan, indexed));
      }
    }
    return out;
  }
}
