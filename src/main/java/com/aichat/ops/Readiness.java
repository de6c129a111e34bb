package com.aichat.ops;

import com.aichat.ai.provider.ProviderSettings;
import com.aichat.config.DeploymentSettings;
import com.aichat.persistence.Conversations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import java.time.Instant;
import java.util.List;

/**
 * The checks of {@code GET /health/ready}, each reported under {@code checks.<name>} with
 * {@code ok} and details; {@code failed} lists the names of those that failed:
 *
 * <ul>
 *   <li>{@code draining}: the node is not shutting down;
 *   <li>{@code verticles}: every verticle kind this node is configured to run is deployed;
 *   <li>{@code store}: persistence answers a query through the bus (a round trip to the database);
 *   <li>{@code provider}: the model provider of this node's workers is configured ({@code claude} with
 *       an API key, or the offline model); {@code none} on a node without workers;
 *   <li>{@code cluster}: with {@code cluster.enabled}, the cluster manager is active and this node is
 *       a member.
 * </ul>
 */
public final class Readiness {

  private final Vertx vertx;
  private final DeploymentSettings deployment;
  private final ProviderSettings providers;
  private final Conversations store;

  public Readiness(Vertx vertx, DeploymentSettings deployment, ProviderSettings providers, Conversations store) {
    this.vertx = vertx;
    this.deployment = deployment;
    this.providers = providers;
    this.store = store;
  }

  /** The report; {@code status} is {@code ready} or {@code not_ready}. Never fails. */
  public Future<JsonObject> check() {
    NodeLifecycle life = NodeLifecycle.of(vertx);
    JsonObject checks = new JsonObject();
    checks.put("draining", new JsonObject().put("ok", !life.draining()));
    List<String> missing = life.missing(vertx.deploymentIDs());
    checks.put("verticles", new JsonObject()
        .put("ok", !life.expected().isEmpty() && missing.isEmpty())
        .put("expected", new JsonArray(life.expected().stream().sorted().toList()))
        .put("missing", new JsonArray(life.expected().isEmpty() ? List.of("(none recorded)") : missing)));
    checks.put("provider", provider());
    checks.put("cluster", cluster());
    // a real round trip through persistence to the database: a count that matches nothing
    return store.countUserMessagesSince("000000000000000000000000", Instant.now())
        .map(n -> new JsonObject().put("ok", true))
        .otherwise(err -> new JsonObject().put("ok", false).put("error", "persistence is not answering"))
        .map(storeCheck -> report(checks.put("store", storeCheck)));
  }

  private JsonObject provider() {
    if (deployment.worker() <= 0) {
      return new JsonObject().put("ok", true).put("provider", "none");
    }
    boolean claude = providers.useClaude();
    boolean ok = !claude || providers.claude().apiKey() != null;
    return new JsonObject().put("ok", ok).put("provider", claude ? "claude" : "offline");
  }

  private JsonObject cluster() {
    if (!deployment.clustered()) {
      return new JsonObject().put("ok", true).put("enabled", false);
    }
    ClusterManager cm = vertx instanceof VertxInternal vi ? vi.clusterManager() : null;
    boolean active = cm != null && cm.isActive();
    String self = active ? cm.getNodeId() : null;
    List<String> nodes = active ? cm.getNodes() : List.of();
    return new JsonObject()
        .put("ok", active && self != null && nodes.contains(self))
        .put("enabled", true)
        .put("members", nodes.size());
  }

  private static JsonObject report(JsonObject checks) {
    JsonArray failed = new JsonArray();
    checks.forEach(e -> {
      if (!((JsonObject) e.getValue()).getBoolean("ok", false)) {
        failed.add(e.getKey());
      }
    });
    return new JsonObject()
        .put("status", failed.isEmpty() ? "ready" : "not_ready")
        .put("failed", failed)
        .put("checks", checks);
  }
}
