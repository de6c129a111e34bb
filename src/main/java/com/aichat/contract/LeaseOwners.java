package com.aichat.contract;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;

/**
 * The form of a worker id, which is the {@code leaseOwner} of the replies it claims:
 * {@code <nodeId>/<deploymentId>-<random>}, where {@code nodeId} is the Vert.x cluster node id
 * (Hazelcast member UUID) of the worker's node, or {@code local} when the node is not clustered. So the
 * replies a lost node held are those whose owner starts with {@link #nodePrefix(String)} of its id.
 */
public final class LeaseOwners {

  /** The node part of a worker id when this Vert.x is not clustered. */
  public static final String LOCAL_NODE = "local";

  private LeaseOwners() {}

  /** The cluster node id of {@code vertx}, or {@link #LOCAL_NODE}. */
  public static String nodeId(Vertx vertx) {
    return vertx.isClustered() ? ((VertxInternal) vertx).clusterManager().getNodeId() : LOCAL_NODE;
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
