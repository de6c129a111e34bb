package com.aichat.contract;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The form of a worker id, which is the {@code leaseOwner} of the replies it claims:
 * {@code <nodeId>/<deploymentId>-<random>}, where {@code nodeId} is the Vert.x cluster node id
 * (Hazelcast member UUID, new on every start) of the worker's node; when the node is not clustered it
 * is the name its {@code NodeIdentity} gave it ({@code <node id>.<incarnation>}, unique per start), or
 * {@code local} without one. So the replies a lost node, or an earlier incarnation of a restarted node,
 * held are those whose owner starts with {@link #nodePrefix(String)} of its id.
 */
public final class LeaseOwners {

  /** The node part of a worker id when this Vert.x is not clustered. */
  public static final String LOCAL_NODE = "local";

  private static final Map<Vertx, String> LOCAL_NAMES = new ConcurrentHashMap<>();

  private LeaseOwners() {}

  /** The cluster node id of {@code vertx}, or the name given to its unclustered node, or {@link #LOCAL_NODE}. */
  public static String nodeId(Vertx vertx) {
    return vertx.isClustered() ? ((VertxInternal) vertx).clusterManager().getNodeId()
        : LOCAL_NAMES.getOrDefault(vertx, LOCAL_NODE);
  }

  /** Names the node of an unclustered {@code vertx} (until it closes) in the worker ids made afterwards. */
  public static void nameLocalNode(Vertx vertx, String name) {
    if (LOCAL_NAMES.put(vertx, name) == null && vertx instanceof VertxInternal internal) {
      internal.addCloseHook(completion -> {
        LOCAL_NAMES.remove(vertx);
        completion.succeed();
      });
    }
  }

  /** What every worker id of node {@code nodeId} starts with. */
  public static String nodePrefix(String nodeId) {
    return nodeId + "/";
  }

  /** A new worker id on {@code vertx}'s node for the verticle deployment {@code deploymentId}. */
  public static String newWorkerId(Vertx vertx, String deploymentId, long random) {
    return nodePrefix(nodeId(vertx)) + deploymentId + "-" + Long.toHexString(random);
  }
}
