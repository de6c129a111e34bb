package com.aichat.ops;

import com.aichat.contract.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The graceful drain of a node, run by Main's JVM shutdown hook on SIGTERM (and by tests):
 *
 * <ol>
 *   <li>the node is marked draining ({@link NodeLifecycle}): the API answers sends with 503
 *       {@code DRAINING}, {@code /health/ready} with 503, the gateway refuses new sockets;
 *   <li>{@link Addresses#NODE_DRAINING} is published to this node's verticles: the gateway sends every
 *       socket {@code server.draining} and disconnects it {@code shutdown.socket_notice_ms} later; the
 *       workers take no new jobs and announce no free slots;
 *   <li>running generations have {@code shutdown.grace_ms} to finish;
 *   <li>the verticles are undeployed, last deployed first: the workers hand the generations still
 *       running back ({@code pending}, claim released), before persistence goes;
 *   <li>Vert.x closes (and leaves the cluster).
 * </ol>
 *
 * A reply handed back is claimed again by another node's worker (its dispatcher or the recovery sweep)
 * or, on a single node, by the recovery sweep after the next start: none is lost, and the atomic claim
 * means none is generated twice.
 */
public final class Drain {

  private static final Logger log = LoggerFactory.getLogger(Drain.class);
  private static final long POLL_MS = 20;

  private Drain() {}

  /** Drains and closes {@code vertx}; completes once it is closed. */
  public static Future<Void> run(Vertx vertx, ShutdownSettings settings) {
    NodeLifecycle life = NodeLifecycle.of(vertx);
    life.startDraining();
    if (!life.claimDrain()) {
      return Future.succeededFuture();
    }
    log.info("draining: no new sends or sockets; {} generations running, {} ms to finish", life.jobs(),
        settings.graceMs());
    vertx.eventBus().publish(Addresses.NODE_DRAINING, new JsonObject()
        .put("graceMs", settings.graceMs())
        .put("socketNoticeMs", settings.socketNoticeMs()));
    long started = System.currentTimeMillis();
    return waitForGenerations(vertx, life, settings)
        .compose(v -> {
          log.info("drain: {} generations left after {} ms; undeploying (they are handed back)", life.jobs(),
              System.currentTimeMillis() - started);
          return undeploy(vertx, life.undeployOrder());
        })
        .eventually(() -> vertx.close())
        .onComplete(ar -> log.info("drained and closed in {} ms", System.currentTimeMillis() - started));
  }

  /**
   * Completes once no generation runs (but not before the sockets had their notice), or when the grace
   * period is over.
   */
  private static Future<Void> waitForGenerations(Vertx vertx, NodeLifecycle life, ShutdownSettings s) {
    Promise<Void> done = Promise.promise();
    long started = System.currentTimeMillis();
    vertx.setPeriodic(POLL_MS, timer -> {
      long elapsed = System.currentTimeMillis() - started;
      boolean idle = life.jobs() <= 0 && elapsed >= s.socketNoticeMs();
      if (idle || elapsed >= Math.max(s.graceMs(), s.socketNoticeMs())) {
        vertx.cancelTimer(timer);
        done.tryComplete();
      }
    });
    return done.future();
  }

  private static Future<Void> undeploy(Vertx vertx, List<String> ids) {
    Future<Void> chain = Future.succeededFuture();
    for (String id : ids) {
      chain = chain.compose(v -> vertx.undeploy(id)
          .recover(err -> {
            log.warn("drain: undeploy of {} failed: {}", id, err.getMessage());
            return Future.succeededFuture();
          }));
    }
    return chain;
  }
}
