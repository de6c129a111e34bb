package com.aichat.persistence.service;

import com.aichat.config.NodeSettings;
import com.aichat.contract.Addresses;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.ServiceFailure;
import com.aichat.metrics.Metrics;
import com.mongodb.MongoClientSettings;
import io.micrometer.core.instrument.binder.mongodb.MongoMetricsCommandListener;
import io.vertx.ext.mongo.impl.config.MongoClientOptionsParser;
import java.util.UUID;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Jobs;
import com.aichat.persistence.Recovery;
import com.aichat.persistence.binding.BusService;
import com.aichat.persistence.impl.MongoStores;
import com.aichat.persistence.impl.MongoSchema;
import com.aichat.persistence.MongoSettings;
import com.aichat.contract.SessionJobKind;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the database: the single vertx-mongo-client {@link MongoClient}, the schema, and the
 * store's four interfaces ({@link Conversations}, {@link Generations}, {@link Jobs}, {@link Recovery}),
 * each served on its own address ({@link Addresses}) by the generic binding ({@link BusService}).
 *
 * <p>Without {@code mongo.connection_string} it first starts the embedded MongoDB-wire server
 * ({@link EmbeddedMongo}) on {@code node.data_dir}; only one instance per node may do that
 * ({@code verticles.persistence} is at most 1, and the H2 store file is locked by its owner).
 * {@link #start()} completes once the database answered, the indexes exist and the consumer is
 * registered; an unreachable database fails it with {@code UNAVAILABLE}.
 */
public final class PersistenceVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(PersistenceVerticle.class);

  private final MongoSettings settings;
  private final NodeSettings node;
  private final Set<SessionJobKind> autoJobs;

  private EmbeddedDatabase embedded;
  private MongoClient client;
  private List<MessageConsumer<Object>> consumers = List.of();

  /** With every session job kind enqueued automatically. */
  public PersistenceVerticle(MongoSettings settings, NodeSettings node) {
    this(settings, node, EnumSet.allOf(SessionJobKind.class));
  }

  /**
   * @param autoJobs the session job kinds the store enqueues when a reply completes (from
   *     {@code titles.enabled}, ...)
   */
  public PersistenceVerticle(MongoSettings settings, NodeSettings node, Set<SessionJobKind> autoJobs) {
    this.settings = settings;
    this.node = node;
    this.autoJobs = Set.copyOf(autoJobs);
  }

  @Override
  public Future<?> start() {
    return startEmbeddedServer()
        .map(this::createClient)
        .compose(this::prepareSchema)
        .compose(v -> registerStore())
        .onSuccess(v -> log.info(
            "persistence ready on database '{}' ({})",
            settings.database(),
            embedded == null ? "external MongoDB" : "embedded, " + embedded.description()))
        .recover(err -> releaseResources().transform(x -> Future.failedFuture(startFailure(err))));
  }

  @Override
  public Future<?> stop() {
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
        .transform(x -> releaseResources());
  }

  private Future<String> startEmbeddedServer() {
    if (!settings.embedded()) {
      return Future.succeededFuture(settings.connectionString());
    }
    return EmbeddedDatabase.start(vertx, settings, node)
        .map(server -> {
          embedded = server;
          return server.connectionString();
        });
  }

  private MongoClient createClient(String connectionString) {
    JsonObject config =
        new JsonObject()
            .put("connection_string", connectionString)
            .put("db_name", settings.database())
            .put("useObjectId", true)
            .put("serverSelectionTimeoutMS", settings.serverSelectionTimeoutMs())
            .put("connectTimeoutMS", (int) Math.min(settings.serverSelectionTimeoutMs(), 10_000));
    // Vert.x's own parsing of the config (codecs, pool, its event loops as the driver's transport),
    // plus Micrometer's command listener: mongodb_driver_commands_seconds{command,collection,status}
    MongoClientSettings parsed = new MongoClientOptionsParser(vertx, config).settings();
    MongoClientSettings withMetrics = MongoClientSettings.builder(parsed)
        .addCommandListener(new MongoMetricsCommandListener(Metrics.of(vertx).meters(), new CommandTags()))
        .build();
    client = MongoClient.createWithMongoSettings(vertx, config, UUID.randomUUID().toString(), withMetrics);
    return client;
  }

  private Future<Void> prepareSchema(MongoClient mongo) {
    return MongoSchema.ensure(mongo);
  }

  private Future<Void> registerStore() {
    MongoStores stores = MongoStores.create(
        vertx, client, java.time.Clock.systemUTC(), autoJobs, new BusChanges(vertx.eventBus()));
    consumers = List.of(
        BusService.serve(vertx, Conversations.class, stores.conversations()),
        BusService.serve(vertx, Generations.class, stores.generations()),
        BusService.serve(vertx, Jobs.class, stores.jobs()),
        BusService.serve(vertx, Recovery.class, stores.recovery()));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .onSuccess(v -> scheduleLedgerRecovery(stores.recovery()))
        .mapEmpty();
  }

  /** How often unfinished usage-ledger increments are looked for, and how old they must be. */
  static final long LEDGER_RECOVERY_INTERVAL_MS = 30_000;
  static final long LEDGER_RECOVERY_AGE_MS = 10_000;
  static final int LEDGER_RECOVERY_BATCH = 100;

  /**
   * A crash between a reply's completion and its usage-ledger increment leaves the reply marked;
   * this applies such replies (once: {@link Recovery#recoverUsageLedger} is idempotent). Runs at
   * start and then every {@value #LEDGER_RECOVERY_INTERVAL_MS} ms.
   */
  private void scheduleLedgerRecovery(Recovery store) {
    Runnable run = () -> store
        .recoverUsageLedger(java.time.Instant.now().minusMillis(LEDGER_RECOVERY_AGE_MS), LEDGER_RECOVERY_BATCH)
        .onFailure(err -> log.warn("usage ledger recovery failed: {}", err.toString()));
    run.run();
    vertx.setPeriodic(LEDGER_RECOVERY_INTERVAL_MS, id -> run.run());
  }

  /** Closes the client, then the embedded server; never fails. */
  private Future<Void> releaseResources() {
    Future<Void> closeClient = client == null ? Future.succeededFuture() : client.close();
    return closeClient
        .transform(x -> {
          EmbeddedDatabase server = embedded;
          embedded = null;
          client = null;
          return server == null ? Future.<Void>succeededFuture() : server.stop(vertx);
        })
        .recover(err -> {
          log.warn("closing the database failed: {}", err.toString());
          return Future.succeededFuture();
        });
  }

  private static Throwable startFailure(Throwable err) {
    if (err instanceof ServiceFailure) {
      return err;
    }
    if (isUnreachable(err)) {
      log.error("the database is unreachable: {}", err.getClass().getSimpleName());
      return ErrorCode.UNAVAILABLE.failure("database unreachable");
    }
    log.error("persistence failed to start", err);
    return err instanceof IllegalStateException ? err : ErrorCode.INTERNAL.failure("persistence failed to start");
  }

  private static boolean isUnreachable(Throwable err) {
    return err instanceof com.mongodb.MongoTimeoutException
        || err instanceof com.mongodb.MongoSocketException;
  }
}
