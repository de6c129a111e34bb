package com.aichat.ops;

import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What this node (one Vert.x instance) knows about itself: which verticle kinds it should run and
 * which are deployed (for {@code /health/ready}), whether it is draining, and how many generations
 * its workers hold (for the drain). Node-local process state, not a verticle: verticles still talk to
 * each other only over the bus; they read this to learn the node's lifecycle phase. Thread-safe.
 */
public final class NodeLifecycle {

  private static final Map<Vertx, NodeLifecycle> BY_VERTX = new ConcurrentHashMap<>();

  private final Set<String> expected = ConcurrentHashMap.newKeySet();
  /** Deployment ids by verticle kind, in deployment order. */
  private final Map<String, String> deployed = Collections.synchronizedMap(new LinkedHashMap<>());
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean drainRunning = new AtomicBoolean();
  private final AtomicInteger jobs = new AtomicInteger();

  private NodeLifecycle() {}

  /** The lifecycle of {@code vertx}'s node. */
  public static NodeLifecycle of(Vertx vertx) {
    return BY_VERTX.computeIfAbsent(vertx, v -> {
      NodeLifecycle created = new NodeLifecycle();
      if (v instanceof VertxInternal internal) {
        internal.addCloseHook(completion -> {
          BY_VERTX.remove(v);
          completion.succeed();
        });
      }
      return created;
    });
  }

  /** Main declares the verticle kinds this node runs before it deploys them. */
  public void expect(String kind) {
    expected.add(kind);
  }

  public void deployed(String kind, String deploymentId) {
    deployed.put(kind, deploymentId);
  }

  /**
   * Kinds that should run here but are not deployed, or no longer are (their deployment id is not in
   * {@code liveIds}, the node's current deployments); empty when all run.
   */
  public List<String> missing(Set<String> liveIds) {
    List<String> out = new ArrayList<>();
    for (String kind : expected) {
      String id = deployed.get(kind);
      if (id == null || !liveIds.contains(id)) {
        out.add(kind);
      }
    }
    Collections.sort(out);
    return out;
  }

  public Set<String> expected() {
    return Set.copyOf(expected);
  }

  /** Deployment ids, last deployed first: the order the drain undeploys in. */
  public List<String> undeployOrder() {
    List<String> ids;
    synchronized (deployed) {
      ids = new ArrayList<>(deployed.values());
    }
    Collections.reverse(ids);
    return ids;
  }

  /** Starts draining; false if the node was draining already. */
  public boolean startDraining() {
    return draining.compareAndSet(false, true);
  }

  /** True for the one caller that runs the drain (a second SIGTERM, or a test, gets false). */
  boolean claimDrain() {
    return drainRunning.compareAndSet(false, true);
  }

  public boolean draining() {
    return draining.get();
  }

  public void jobStarted() {
    jobs.incrementAndGet();
  }

  public void jobEnded() {
    jobs.decrementAndGet();
  }

  /** Generations this node's workers hold. */
  public int jobs() {
    return jobs.get();
  }
}
