package com.aichat.dispatch;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.LeaseOwners;
import com.aichat.contract.SessionJobRequest;
import com.aichat.metrics.Metrics;
import com.aichat.persistence.Recovery;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns "this AI reply is pending" into work. Consumes {@link Addresses#DISPATCH}
 * {@link DispatchRequest} {@code {messageId, userId?, sessionId?}} and hands the reply to the
 * {@link Dispatch} strategy of {@code dispatch.mode}, replying its
 * {@link com.aichat.contract.DispatchReceipt} {@code {dispatched: true, queue?, load?}}.
 *
 * <p>It also runs the recovery sweep every {@code dispatch.sweep_interval_ms}: replies still
 * {@code pending} after {@code dispatch.pending_grace_ms} (never dispatched, or left by a busy worker or
 * a released retry) and {@code processing} replies whose lease expired (their worker died) are
 * dispatched again, at most {@code dispatch.sweep_batch} per round.
 *
 * <p>One sweep per round in the whole cluster: of all dispatcher instances (on every node), only the
 * holder of the sweep lease runs it. The lease is the entry {@value #SWEEP_KEY} of the cluster-wide map
 * {@value #SWEEP_MAP} (Vert.x shared data; local to the process when not clustered), taken with
 * {@code putIfAbsent} and a time-to-live of {@value #SWEEP_LEASE_ROUNDS} sweep intervals, renewed by
 * its holder every round. A holder that dies or stalls loses it when the entry expires and another
 * instance takes over, so the store sees one sweep query per interval, however many dispatchers run.
 *
 * <p>With {@code dispatch.release_on_node_loss} (default true) on a clustered node, every dispatcher
 * listens to Hazelcast's membership: when a node leaves the cluster (killed, crashed, or cut off long
 * enough for Hazelcast to remove it), the leases of the replies its workers hold (their worker ids start
 * with its node id, {@link LeaseOwners}) are ended ({@link Recovery#expireLeasesOf}) and those replies
 * dispatched again, {@value #MEMBERSHIP_SETTLE_MS} ms after the change instead of when
 * {@code worker.lease_ms} runs out; only while this node still sees a strict majority of the members it
 * saw before the change, so a node that was itself paused or cut off, and sees all others leave, takes
 * nothing from them. Ending a
 * lease is a conditional write, so of several dispatchers only one re-dispatches each reply; and a
 * worker that was only paused cannot write after another claimed the reply (its writes are fenced by
 * {@code leaseOwner}, its deltas by their {@code attempt}).
 *
 * <p>The same round re-sends session jobs ({@link Addresses#SESSION_JOBS}) left {@code pending} past
 * the grace or whose lease expired.
 */
public final class DispatcherVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(DispatcherVerticle.class);

  private final DispatchSettings settings;
  private final CloudTasksSettings cloudTasks;
  private Recovery store;
  private Dispatch strategy;
  private long sweepTimer = -1;
  private boolean sweeping;
  /** This instance's name in the sweep lease. */
  private final String sweeperId = UUID.randomUUID().toString();
  private boolean sweepLeader;
  private UUID membershipRegistration;
  private HazelcastClusterManager hazelcast;
  /** The members (Vert.x node ids) at the last settled membership view. */
  private Set<String> stableMembers = Set.of();
  private long settleTimer = -1;

  /** How long membership events are gathered before the view is compared with the last one. */
  static final long MEMBERSHIP_SETTLE_MS = 500;

  /** The cluster-wide map holding the sweep lease. */
  static final String SWEEP_MAP = "chat.dispatch";

  /** The key of the sweep lease in {@link #SWEEP_MAP}. */
  static final String SWEEP_KEY = "sweep-lease";

  /** The Hazelcast member attribute in which vertx-hazelcast keeps the member's Vert.x node id. */
  static final String VERTX_NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  /** The sweep lease lives this many sweep intervals unless renewed. */
  static final int SWEEP_LEASE_ROUNDS = 3;

  public DispatcherVerticle(DispatchSettings settings, CloudTasksSettings cloudTasks) {
    this.settings = settings;
    this.cloudTasks = cloudTasks;
  }

  @Override
  public Future<?> start() {
    store = Recovery.client(vertx);
    return Dispatch.create(vertx, settings, cloudTasks)
        .compose(created -> {
          strategy = created;
          MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.DISPATCH, this::handleDispatch);
          return consumer.completion();
        })
        .onSuccess(v -> {
          sweepTimer = vertx.setPeriodic(settings.sweepIntervalMs(), t -> sweep());
          watchMembership();
          log.info("dispatcher started: mode={}, sweep every {} ms (one sweep per round cluster-wide){}",
              settings.mode(), settings.sweepIntervalMs(),
              membershipRegistration != null ? ", leases of lost nodes ended at once" : "");
        });
  }

  @Override
  public Future<?> stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    if (membershipRegistration != null) {
      hazelcast.getHazelcastInstance().getCluster().removeMembershipListener(membershipRegistration);
    }
    return strategy == null ? Future.succeededFuture() : strategy.close();
  }

  private void handleDispatch(Message<JsonObject> msg) {
    DispatchRequest request = msg.body() == null ? null : DispatchRequest.fromJson(msg.body());
    if (request == null || request.messageId() == null || request.messageId().isBlank()) {
      msg.fail(ErrorCode.VALIDATION_FAILED.failureCode(), "messageId is required");
      return;
    }
    strategy
        .accept(request)
        .onSuccess(receipt -> msg.reply(receipt.toJson()))
        .onFailure(err -> {
          ErrorCode code = ErrorCode.fromThrowable(err) == ErrorCode.OVERLOADED ? ErrorCode.OVERLOADED : ErrorCode.UNAVAILABLE;
          log.warn("dispatch of reply {} failed ({}), the sweep will retry it: {}", request.messageId(), code,
              err.getMessage());
          msg.fail(code.failureCode(), "the reply could not be dispatched now; it will be retried");
        });
  }

  /**
   * One recovery round, run only by the holder of the sweep lease; skipped while the previous one is
   * still running.
   */
  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    holdSweepLease()
        .compose(mine -> {
          if (!mine) {
            return Future.succeededFuture();
          }
          Instant now = Instant.now();
          return store
              .findStrandedReplies(now, now.minusMillis(settings.pendingGraceMs()), settings.sweepBatch())
              .compose(this::sweepRedispatch)
              .compose(v -> store.findStrandedSessionJobs(now, now.minusMillis(settings.pendingGraceMs()),
                  settings.sweepBatch()))
              .map(this::resendSessionJobs);
        })
        .onFailure(err -> log.warn("recovery sweep failed: {}", err.getMessage()))
        .onComplete(ar -> sweeping = false);
  }

  /** True when this instance holds the sweep lease for this round (taken or renewed now). */
  private Future<Boolean> holdSweepLease() {
    long ttl = settings.sweepIntervalMs() * SWEEP_LEASE_ROUNDS;
    return vertx.sharedData().<String, String>getAsyncMap(SWEEP_MAP)
        .compose(map -> map.putIfAbsent(SWEEP_KEY, sweeperId, ttl)
            .compose(holder -> holder == null ? Future.succeededFuture(true)
                : holder.equals(sweeperId) ? renew(map, ttl) : Future.succeededFuture(false)))
        .map(mine -> {
          if (mine != sweepLeader) {
            sweepLeader = mine;
            log.info("dispatcher {} on node {} {} the recovery sweep", sweeperId, LeaseOwners.nodeId(vertx),
                mine ? "now runs" : "no longer runs");
          }
          return mine;
        });
  }

  private Future<Boolean> renew(AsyncMap<String, String> map, long ttl) {
    return map.put(SWEEP_KEY, sweeperId, ttl).map(true);
  }

  /** Listens to Hazelcast's member removals, when clustered and {@code dispatch.release_on_node_loss}. */
  private void watchMembership() {
    if (!settings.releaseOnNodeLoss() || !vertx.isClustered()
        || !(((VertxInternal) vertx).clusterManager() instanceof HazelcastClusterManager hz)) {
      return;
    }
    hazelcast = hz;
    stableMembers = currentMembers();
    Context ctx = context;
    // Hazelcast threads: hand over to this verticle's event loop
    membershipRegistration = hz.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        ctx.runOnContext(v -> membershipChanged());
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        ctx.runOnContext(v -> membershipChanged());
      }
    });
  }

  /** Several members leave in one change as several events: look once the view has settled. */
  private void membershipChanged() {
    if (settleTimer == -1) {
      settleTimer = vertx.setTimer(MEMBERSHIP_SETTLE_MS, t -> {
        settleTimer = -1;
        settleMembership();
      });
    }
  }

  /**
   * Ends the leases of the nodes that left since the last settled view, but only while this node still
   * sees a strict majority of that view: a node that was itself cut off or paused sees all the others
   * leave, and must not take their replies from them.
   */
  private void settleMembership() {
    Set<String> now = currentMembers();
    Set<String> gone = new HashSet<>(stableMembers);
    gone.removeAll(now);
    if (!gone.isEmpty()) {
      if (now.size() * 2 > stableMembers.size()) {
        gone.forEach(this::releaseNode);
      } else {
        log.warn("{} of {} cluster members left at once and this node sees no majority: not ending their leases"
            + " (they run out after worker.lease_ms)", gone.size(), stableMembers.size());
      }
    }
    stableMembers = now;
  }

  /**
   * The Vert.x node ids of the members this node sees: the Vert.x Hazelcast cluster manager keeps a
   * member's node id (the first part of its worker ids) as a member attribute.
   */
  private Set<String> currentMembers() {
    Set<String> ids = new HashSet<>();
    for (Member m : hazelcast.getHazelcastInstance().getCluster().getMembers()) {
      String vertxNode = m.getAttribute(VERTX_NODE_ID_ATTRIBUTE);
      ids.add(vertxNode != null ? vertxNode : m.getUuid().toString());
    }
    return ids;
  }

  /** A node left: end the leases its workers held and dispatch those replies again. */
  private void releaseNode(String nodeId) {
    store.expireLeasesOf(LeaseOwners.nodePrefix(nodeId))
        .onSuccess(ids -> {
          if (!ids.isEmpty()) {
            log.info("node {} left the cluster: ended the leases of {} replies its workers held; dispatching them again",
                nodeId, ids.size());
          }
        })
        .compose(this::redispatch)
        .onFailure(err -> log.warn("node {} left the cluster; ending its leases failed, the sweep will recover"
            + " its replies when the leases run out: {}", nodeId, err.getMessage()));
  }

  /** Session jobs left pending or whose worker died go back to the workers (their claim decides who runs them). */
  private Void resendSessionJobs(List<SessionJobRequest> jobs) {
    if (!jobs.isEmpty()) {
      log.info("recovery sweep re-sends {} stranded session jobs", jobs.size());
    }
    jobs.forEach(j -> vertx.eventBus().send(Addresses.SESSION_JOBS, j.toJson()));
    return null;
  }

  private Future<Void> sweepRedispatch(List<String> ids) {
    if (!ids.isEmpty()) {
      log.info("recovery sweep re-dispatches {} stranded replies", ids.size());
      Metrics.of(vertx).sweepRecoveries(ids.size());
    }
    return redispatch(ids);
  }

  private Future<Void> redispatch(List<String> ids) {
    List<Future<Void>> all =
        ids.stream()
            .map(id -> strategy
                .dispatch(id)
                .onFailure(err -> log.warn("re-dispatch of reply {} failed: {}", id, err.getMessage())))
            .toList();
    return Future.join(all).mapEmpty();
  }
}
