package com.aichat;

import com.aichat.ai.AiWorkerVerticle;
import com.aichat.api.HttpApiVerticle;
import com.aichat.auth.DevTokenCommand;
import com.aichat.config.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.config.ConfigLoader;
import com.aichat.dispatch.DispatcherVerticle;
import com.aichat.gateway.GatewayVerticle;
import com.aichat.persistence.PersistenceVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
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

  private Main() {}

  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx();
    if (args.length > 0 && args[0].equals(DevTokenCommand.NAME)) {
      DevTokenCommand.run(vertx, List.of(args).subList(1, args.length), System.out)
          .onComplete(code -> vertx.close().onComplete(x -> System.exit(code.result())));
      return;
    }
    ConfigLoader.load(vertx)
        .map(AppConfig::from)
        .compose(cfg -> start(vertx, cfg))
        .onSuccess(ids -> log.info("chat-service started: {} verticle kinds deployed", ids.size()))
        .onFailure(
            err -> {
              if (err instanceof ConfigException) {
                log.error(err.getMessage());
              } else {
                log.error("startup failed: {}", err.getMessage(), err);
              }
              vertx.close().onComplete(x -> System.exit(1));
            });
  }

  /** Deploys the verticles of {@link #verticles(AppConfig)} one kind after another. */
  public static Future<List<String>> start(Vertx vertx, AppConfig cfg) {
    List<String> ids = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (VerticleSpec spec : verticles(cfg)) {
      if (spec.instances() <= 0) {
        continue;
      }
      chain = chain.compose(v -> deploy(vertx, spec).map(id -> {
        ids.add(id);
        return null;
      }));
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
    // An array initializer, so every line (each added by a different branch) may end with a comma.
    return List.of(new VerticleSpec[] {
        // persistence
        new VerticleSpec("persistence", cfg.deployment().persistence(), () -> new PersistenceVerticle(cfg)),
        // worker
        new VerticleSpec(
            "worker", cfg.deployment().worker(), () -> new AiWorkerVerticle(cfg.worker(), cfg.providers())),
        // dispatcher
        new VerticleSpec(
            "dispatcher",
            cfg.deployment().dispatcher(),
            () -> new DispatcherVerticle(cfg.dispatch(), cfg.cloudTasks())),
        // api
        new VerticleSpec("api", cfg.deployment().api(), () -> new HttpApiVerticle(cfg)),
        // gateway
        new VerticleSpec("gateway", cfg.deployment().gateway(),
            () -> new GatewayVerticle(cfg.gateway(), cfg.auth())),
        });
  }
}
