package com.aichat.embedded.index;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized check of the planner against a plain scan: the same documents, writes and queries go to
 * the indexed embedded server (memory or H2) and to a stock mongo-java-server without indexes; every
 * answer must be the same. Filters mix equality, {@code $in}, ranges, {@code $or} and {@code $and};
 * sorts go both ways with skip and limit; updates move indexed fields, unset them, and delete.
 */
@DisplayName("Indexed queries answer exactly what a collection scan answers")
class IndexedQueryDifferentialTest {

  private static final int ROUNDS = 400;

  private Vertx vertx;
  private MongoServer plainServer;
  private com.aichat.embedded.EmbeddedMongo indexedServer;
  private MongoClient plain;
  private MongoClient indexed;
  private final Random random = new Random(20261202L);
  private final List<ObjectId> users = new ArrayList<>();

  @TempDir Path dir;

  void start(String backend) {
    vertx = Vertx.vertx();
    plainServer = new MongoServer(new MemoryBackend());
    plainServer.bind("127.0.0.1", 0);
    InetSocketAddress addr = plainServer.getLocalAddress();
    indexedServer = com.aichat.embedded.EmbeddedMongo.start(backend, dir, 0);
    plain = client("mongodb://127.0.0.1:" + addr.getPort());
    indexed = client(indexedServer.connectionString());
    for (MongoClient c : List.of(plain, indexed)) {
      c.createIndexWithOptions("docs", new JsonObject().put("a", 1).put("b", 1).put("_id", 1),
          new IndexOptions().name("a_b_id")).await();
      c.createIndexWithOptions("docs", new JsonObject().put("c", 1).put("d", -1),
          new IndexOptions().name("c_d_partial").partialFilterExpression(new JsonObject().put("kind", "x"))).await();
      c.createIndexWithOptions("docs", new JsonObject().put("s", 1),
          new IndexOptions().name("s_sparse").sparse(true)).await();
      c.createIndexWithOptions("docs", new JsonObject().put("u", 1).put("t", -1).put("_id", -1),
          new IndexOptions().name("u_t_id")).await();
    }
    for (int i = 0; i < 5; i++) {
      users.add(new ObjectId());
    }
  }

  private MongoClient client(String cs) {
    return MongoClient.create(vertx, new JsonObject().put("connection_string", cs).put("db_name", "diff")
        .put("useObjectId", true));
  }

  @AfterEach
  void stop() {
    if (indexed != null) {
      indexed.close().await();
      plain.close().await();
    }
    if (indexedServer != null) {
      indexedServer.stop();
    }
    if (plainServer != null) {
      plainServer.shutdownNow();
    }
    if (vertx != null) {
      vertx.close().await();
    }
  }

  @ParameterizedTest(name = "{0} backend")
  @ValueSource(strings = {"memory", "h2"})
  @DisplayName("random documents, writes and queries give the same results with and without indexes")
  void randomizedAgainstScan(String backend) {
    start(backend);
    indexed.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1).put("enable", true)).await();
    List<JsonObject> seed = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      seed.add(randomDoc());
    }
    for (JsonObject d : seed) {
      plain.insert("docs", d.copy()).await();
      indexed.insert("docs", d.copy()).await();
    }
    int compared = 0;
    for (int round = 0; round < ROUNDS; round++) {
      int op = random.nextInt(10);
      if (op == 0) {
        JsonObject d = randomDoc();
        plain.insert("docs", d.copy()).await();
        indexed.insert("docs", d.copy()).await();
      } else if (op == 1) {
        JsonObject filter = randomFilter();
        JsonObject update = randomUpdate();
        plain.updateCollectionWithOptions("docs", filter, update, new UpdateOptions().setMulti(true)).await();
        indexed.updateCollectionWithOptions("docs", filter, update, new UpdateOptions().setMulti(true)).await();
      } else if (op == 2 && random.nextInt(3) == 0) {
        JsonObject filter = randomFilter();
        plain.removeDocuments("docs", filter).await();
        indexed.removeDocuments("docs", filter).await();
      } else if (op == 3) {
        JsonObject filter = randomFilter();
        assertThat(indexed.count("docs", filter).await()).as("count %s", filter)
            .isEqualTo(plain.count("docs", filter).await());
        compared++;
      } else {
        JsonObject filter = randomFilter();
        FindOptions opts = randomOptions();
        List<JsonObject> expected = plain.findWithOptions("docs", filter, opts).await();
        List<JsonObject> actual = indexed.findWithOptions("docs", filter, opts).await();
        if (opts.getSort().isEmpty()) {
          expected.sort(Comparator.comparing(d -> d.getValue("_id").toString()));
          actual.sort(Comparator.comparing(d -> d.getValue("_id").toString()));
        }
        assertThat(actual).as("find %s %s skip %d limit %d", filter, opts.getSort(), opts.getSkip(), opts.getLimit())
            .isEqualTo(expected);
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(ROUNDS / 2);
    long indexedQueries = 0;
    long allQueries = 0;
    JsonObject plans = indexed.runCommand(PlanLog.COMMAND, new JsonObject().put(PlanLog.COMMAND, 1)).await();
    for (Object o : plans.getJsonArray("shapes")) {
      JsonObject shape = (JsonObject) o;
      if (shape.getString("ns").endsWith(".docs")) {
        allQueries += shape.getLong("queries");
        indexedQueries += shape.getString("plan").startsWith("IXSCAN") ? shape.getLong("queries") : 0;
      }
    }
    assertThat(indexedQueries).as("queries the indexes served, of %d", allQueries).isGreaterThan(allQueries / 3);
    JsonObject validate = indexed.runCommand("validate", new JsonObject().put("validate", "docs")).await();
    assertThat(validate.getBoolean("valid")).as("validate %s", validate).isTrue();
  }

  private JsonObject randomDoc() {
    JsonObject d = new JsonObject().put("_id", new JsonObject().put("$oid", new ObjectId().toHexString()));
    maybe(d, "a", this::smallValue);
    maybe(d, "b", this::numberOrDate);
    d.put("kind", random.nextBoolean() ? "x" : "y");
    maybe(d, "c", () -> "c" + random.nextInt(4));
    maybe(d, "d", () -> random.nextInt(10));
    if (random.nextInt(3) == 0) {
      d.put("s", random.nextInt(5));
    }
    d.put("u", new JsonObject().put("$oid", users.get(random.nextInt(users.size())).toHexString()));
    maybe(d, "t", this::date);
    return d;
  }

  private void maybe(JsonObject d, String field, java.util.function.Supplier<Object> value) {
    int r = random.nextInt(10);
    if (r == 0) {
      d.putNull(field);
    } else if (r > 1) {
      d.put(field, value.get());
    }
  }

  private Object smallValue() {
    return switch (random.nextInt(4)) {
      case 0 -> random.nextInt(5);
      case 1 -> (long) random.nextInt(5);
      case 2 -> random.nextInt(5) + 0.5;
      default -> "s" + random.nextInt(4);
    };
  }

  private Object numberOrDate() {
    return random.nextBoolean() ? random.nextInt(20) - 5 : date();
  }

  private JsonObject date() {
    return new JsonObject().put("$date", Instant.ofEpochMilli(1_700_000_000_000L + random.nextInt(40) * 1000L).toString());
  }

  private JsonObject randomFilter() {
    JsonObject f = conjunction();
    if (random.nextInt(4) == 0) {
      f.put("$or", new JsonArray().add(conjunction()).add(conjunction()));
    }
    if (random.nextInt(6) == 0) {
      f = new JsonObject().put("$and", new JsonArray().add(f).add(conjunction()));
    }
    return f;
  }

  private JsonObject conjunction() {
    JsonObject f = new JsonObject();
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      switch (random.nextInt(9)) {
        case 0 -> f.put("a", condition(this::smallValue));
        case 1 -> f.put("b", condition(this::numberOrDate));
        case 2 -> f.put("kind", random.nextBoolean() ? "x" : "y");
        case 3 -> f.put("c", condition(() -> "c" + random.nextInt(5)));
        case 4 -> f.put("d", condition(() -> random.nextInt(10)));
        case 5 -> f.put("s", random.nextInt(4) == 0 ? new JsonObject().put("$exists", false) : condition(() -> random.nextInt(5)));
        case 6 -> f.put("u", new JsonObject().put("$oid", users.get(random.nextInt(users.size())).toHexString()));
        case 7 -> f.put("t", condition(this::date));
        default -> f.put("a", random.nextBoolean() ? null : new JsonObject().put("$in",
            new JsonArray().add(smallValue()).add(smallValue()).addNull()));
      }
    }
    return f;
  }

  private Object condition(java.util.function.Supplier<Object> value) {
    return switch (random.nextInt(7)) {
      case 0 -> value.get();
      case 1 -> new JsonObject().put("$in", new JsonArray().add(value.get()).add(value.get()));
      case 2 -> new JsonObject().put("$gt", value.get());
      case 3 -> new JsonObject().put("$gte", value.get()).put("$lt", value.get());
      case 4 -> new JsonObject().put("$lte", value.get());
      case 5 -> new JsonObject().put("$ne", value.get());
      default -> new JsonObject().put("$eq", value.get());
    };
  }

  private JsonObject randomUpdate() {
    JsonObject set = new JsonObject();
    switch (random.nextInt(5)) {
      case 0 -> set.put("a", smallValue());
      case 1 -> set.put("b", numberOrDate());
      case 2 -> set.put("kind", random.nextBoolean() ? "x" : "y").put("c", "c" + random.nextInt(4));
      case 3 -> set.put("t", date()).put("u", new JsonObject().put("$oid", users.get(random.nextInt(users.size())).toHexString()));
      default -> {
        return new JsonObject().put("$unset", new JsonObject().put(random.nextBoolean() ? "s" : "a", ""));
      }
    }
    return new JsonObject().put("$set", set);
  }

  private FindOptions randomOptions() {
    FindOptions o = new FindOptions();
    List<String> fields = List.of("a", "b", "c", "d", "s", "u", "t");
    JsonObject sort = new JsonObject();
    int n = random.nextInt(3);
    for (int i = 0; i < n; i++) {
      sort.put(fields.get(random.nextInt(fields.size())), random.nextBoolean() ? 1 : -1);
    }
    if (!sort.isEmpty()) {
      sort.put("_id", random.nextBoolean() ? 1 : -1); // a total order, so both answers are comparable
    }
    o.setSort(sort);
    if (sort.isEmpty()) {
      return o; // without an order, a limit or skip may pick any documents
    }
    if (random.nextBoolean()) {
      o.setLimit(1 + random.nextInt(20));
    }
    if (random.nextInt(4) == 0) {
      o.setSkip(random.nextInt(10));
    }
    return o;
  }
}
