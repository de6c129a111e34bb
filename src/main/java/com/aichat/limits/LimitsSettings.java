package com.aichat.limits;

import com.aichat.config.ConfigReader;
import java.util.Locale;
import java.util.Set;

/**
 * {@code limits.*}: where the per-user limits are counted when the node is clustered.
 *
 * <p>Two limits follow this setting: the REST rate limit ({@code rate_limit.requests_per_minute}) and
 * the per-user generation cap ({@code worker.max_per_user}). The gateway's event budget
 * ({@code gateway.event_rate_per_sec}) always stays per gateway node (see docs/scaling-gateways.md).
 *
 * @param scope {@code limits.scope} (default {@code cluster}): {@code cluster} counts the two limits
 *     once for the whole Vert.x cluster (Hazelcast maps, see {@link ClusterLimits}) when the node is
 *     clustered, so N nodes admit what one would; {@code node} keeps the single-node counting even when
 *     clustered (rate limit per API process, generation cap per worker instance). A node that is not
 *     clustered always counts locally.
 * @param clusterTimeoutMs {@code limits.cluster_timeout_ms} (default 500, 10–60000): how long one
 *     cluster-wide check may take; a check that fails or takes longer falls back to the node-local
 *     count for that request (fail-open to the per-node limit, never to no limit at all)
 */
public record LimitsSettings(Scope scope, long clusterTimeoutMs) {

  /** Where limits are counted. */
  public enum Scope {
    CLUSTER,
    NODE
  }

  /** The defaults: cluster scope, 500 ms. */
  public static LimitsSettings defaults() {
    return new LimitsSettings(Scope.CLUSTER, 500);
  }

  public static LimitsSettings from(ConfigReader r) {
    String scope = r.oneOf("scope", "cluster", Set.of("cluster", "node"));
    return new LimitsSettings(
        Scope.valueOf(scope.toUpperCase(Locale.ROOT)),
        r.longValue("cluster_timeout_ms", 500, 10, 60_000));
  }

  /** True when limits are counted cluster-wide on a clustered node. */
  public boolean clusterWide() {
    return scope == Scope.CLUSTER;
  }
}
