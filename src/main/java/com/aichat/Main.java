package com.aichat;

import com.aichat.ai.AiWorkerVerticle;
import com.aichat.api.HttpApiVerticle;
import com.aichat.auth.DevTokenCommand;
import com.aichat.config.ClusterSettings;
import com.aichat.config.ClusterSetup;
import com.aichat.config.ConfigException;
import com.aichat.config.ConfigLoader;
import com.aichat.dispatch.DispatcherVerticle;
import com.aichat.gateway.GatewayVerticle;
import com.aichat.metrics.Metrics;
import com.aichat.metrics.MetricsSetup;
import com.aichat.ops.Drain;
import com.aichat.ops.NodeIdentity;
import com.aichat.ops.NodeLifecycle;
import com.aichat.persistence.Recovery;
import com.aichat.persistence.service.PersistenceVerticle;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the service together and nothing else: loads and validates the configuration, then deploys
 * the verticles this node runs, each with its instance count from {@code verticles.*}, in dependency
 * order (persistence, then worker and dispatcher, then the HTTP API and the Socket.IO gateway).
 */
public final class Main {

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  /** One verticle kind this node may run. */
  public record VerticleSpec(String name, int instances, Supplier<? extends Deployable> factory) {}

  /** How much longer than {@code shutdown.grace_ms} the shutdown hook waits for the drain. */
  private static final long DRAIN_SLACK_MS = 15_000;

  private Main() {}

  public static void main(String[] args) {
    // The configuration is read with a short-lived local Vert.x, because whether this node joins a
    // cluster is itself configuration.
    Vertx bootstrap = Vertx.vertx();
    if (args.length > 0 && args[0].equals(DevTokenCommand.NAME)) {
      DevTokenCommand.run(bootstrap, ConfigLoader.load(bootstrap).map(AppConfig::from).map(AppConfig::auth),
              List.of(args).subList(1, args.length), System.out)
          .onComplete(code -> bootstrap.close().onComplete(x -> System.exit(code.result())));
      return;
    }
    // The bootstrap instance is closed only at the end: this chain's callbacks run on its context, and
    // on a closed instance they would never run (a clustered node that failed to deploy would not exit).
    ConfigLoader.load(bootstrap)
        .map(AppConfig::from)
        .compose(cfg -> newVertx(cfg).compose(vertx -> start(vertx, cfg)
            .onSuccess(ids -> drainOnShutdown(vertx, cfg))
            .onFailure(err -> vertx.close())))
        .onSuccess(ids -> log.info("chat-service started: {} verticle kinds deployed", ids.size()))
        .onFailure(Main::exitOnStartupFailure)
        .onComplete(ar -> bootstrap.close());
  }

  private static void exitOnStartupFailure(Throwable err) {
    if (err instanceof ConfigException) {
      log.error(err.getMessage());
    } else {
      log.error("startup failed: {}", err.getMessage(), err);
    }
    System.exit(1);
  }

  /**
   * The Vert.x the service runs on, with Vert.x's HTTP server, client, event-bus and pool meters in a
   * Prometheus registry that the domain meters ({@link Metrics}) share: a local instance, or, when
   * {@code cluster.enabled}, a clustered one (Hazelcast). The bootstrap instance is closed then.
   */
  static Future<Vertx> createVertx(Vertx bootstrap, AppConfig cfg) {
    return newVertx(cfg).onSuccess(v -> bootstrap.close());
  }

  /** A new Vert.x for this node's configuration, its meters installed ({@link Metrics#of} answers them). */
  public static Future<Vertx> newVertx(AppConfig cfg) {
    PrometheusMeterRegistry registry = MetricsSetup.registry(cfg.metrics());
    ClusterSettings cluster = cfg.deployment().cluster();
    VertxOptions options = (cluster.enabled() ? ClusterSetup.vertxOptions(cluster) : new VertxOptions())
        .setMetricsOptions(MetricsSetup.vertxMetricsOptions());
    VertxBuilder builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
    if (!cluster.enabled()) {
      Vertx vertx = builder.build();
      Metrics.install(vertx, registry);
      return Future.succeededFuture(vertx);
    }
    ClusterSetup.warnings(cluster).forEach(log::warn);
    return builder
        .withClusterManager(new HazelcastClusterManager(ClusterSetup.hazelcastConfig(cluster)))
        .buildClustered()
        .onSuccess(v -> {
          Metrics.install(v, registry);
          log.info("joined the Vert.x cluster (Hazelcast{}{})",
              cluster.members().isEmpty() ? "" : ", TCP-IP members " + cluster.members(),
              cluster.tls() == null ? "" : ", event-bus TLS with client auth");
        });
  }

  /**
   * On SIGTERM (or any normal JVM exit) the node drains ({@link Drain}) before the JVM ends: the hook
   * thread waits for it, for at most the grace period plus {@value #DRAIN_SLACK_MS} ms.
   */
  static void drainOnShutdown(Vertx vertx, AppConfig cfg) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      CountDownLatch closed = new CountDownLatch(1);
      Drain.run(vertx, cfg.shutdown()).onComplete(ar -> closed.countDown());
      try {
        if (!closed.await(cfg.shutdown().graceMs() + DRAIN_SLACK_MS, TimeUnit.MILLISECONDS)) {
          log.warn("drain did not finish in time; exiting anyway (running replies go back via the lease sweep)");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "chat-drain"));
  }

  /**
   * Deploys the verticles of {@link #verticles(AppConfig)} one kind after another, recording each in
   * the node's {@link NodeLifecycle} (readiness, drain order), then the {@code /metrics} server when
   * {@code metrics.port} gives it a port of its own.
   */
  public static Future<List<String>> start(Vertx vertx, AppConfig cfg) {
    List<String> ids = new ArrayList<>();
    NodeLifecycle life = NodeLifecycle.of(vertx);
    // one process per data directory; the identity names this incarnation's lease owners before any
    // worker claims a reply
    Future<Void> chain = NodeIdentity.acquire(vertx, cfg.node().dataDir()).mapEmpty();
    for (VerticleSpec spec : verticles(cfg)) {
      if (spec.instances() <= 0) {
        continue;
      }
      life.expect(spec.name());
      chain = chain.compose(v -> deploy(vertx, spec).map(id -> {
        ids.add(id);
        life.deployed(spec.name(), id);
        return null;
      }));
    }
    if (cfg.metrics().ownPort()) {
      chain = chain.compose(v -> MetricsSetup.listen(vertx, cfg.http().host(), cfg.metrics()).mapEmpty());
    }
    if (cfg.node().reclaimLeases() && cfg.deployment().worker() > 0) {
      // the replies this node's earlier incarnation held restart now, not when their leases run out
      chain = chain.compose(v -> NodeIdentity.of(vertx).reclaim(vertx, Recovery.client(vertx)).mapEmpty());
    }
    return chain.map(v -> ids);
  }

  private static Future<String> deploy(Vertx vertx, VerticleSpec spec) {
    return vertx
        .deployVerticle(spec.factory(), new DeploymentOptions().setInstances(spec.instances()))
        .onSuccess(id -> log.info("deployed {} x{}", spec.name(), spec.instances()))
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "cannot deploy " + spec.name() + ": " + err.getMessage(), err)));
  }

  /** The verticle kinds in deployment order. */
  public static List<VerticleSpec> verticles(AppConfig cfg) {
    return List.of(
        new VerticleSpec(
            "persistence", cfg.deployment().persistence(),
            () -> new PersistenceVerticle(cfg.mongo(), cfg.node(), cfg.autoSessionJobs())),
        new VerticleSpec(
            "worker", cfg.deployment().worker(),
            () -> new AiWorkerVerticle(cfg.worker(), cfg.providers(), cfg.limits(), cfg.sessionJobs(), cfg.titles())),
        new VerticleSpec(
            "dispatcher",
            cfg.deployment().dispatcher(),
            () -> new DispatcherVerticle(cfg.dispatch(), cfg.cloudTasks())),
        new VerticleSpec("api", cfg.deployment().api(), () -> new HttpApiVerticle(cfg.api())),
        new VerticleSpec(
            "gateway", cfg.deployment().gateway(), () -> new GatewayVerticle(cfg.gateway(), cfg.auth())));
  }

}
