package com.aichat.dispatch;

import com.aichat.config.ConfigReader;
import java.util.Set;

/**
 * {@code dispatch.*}.
 *
 * @param mode {@code dispatch.mode}: {@code local} (default; event bus to an AI worker) or
 *     {@code cloud-tasks} (an HTTP task calling {@code /internal/chat-ai-worker})
 * @param sweepIntervalMs {@code dispatch.sweep_interval_ms} (default 5000): how often the recovery
 *     sweep looks for stranded replies
 * @param pendingGraceMs {@code dispatch.pending_grace_ms} (default 15000): a pending reply untouched
 *     this long is dispatched again
 * @param sweepBatch {@code dispatch.sweep_batch} (default 100): replies re-dispatched per sweep at most
 * @param maxQueued {@code dispatch.max_queued} (default 10000, 1–1,000,000): replies one local
 *     dispatcher holds waiting for a worker slot. At this many, the HTTP API refuses new sends with
 *     {@code 503 OVERLOADED}; a dispatch that still arrives (a sweep, a send admitted just before) is
 *     not queued but left {@code pending} for the sweep, so the queue's memory stays bounded.
 * @param maxQueuedPerUser {@code dispatch.max_queued_per_user} (default 50, 1–100,000): waiting
 *     replies of one user; that user's next send is refused with {@code 503 OVERLOADED} (others go on)
 * @param maxQueueWaitMs {@code dispatch.max_queue_wait_ms} (default 10000, 0 = no limit, at most one
 *     day): a send whose expected start (its place in the fair queue times the measured time per job,
 *     over the known worker slots; or, when longer, its place among its user's waiting replies times the
 *     time per job, over the slots one user may hold, {@code worker.max_per_user} per worker instance)
 *     is further away than this is refused with {@code 503 OVERLOADED}
 * @param loadIntervalMs {@code dispatch.load_interval_ms} (default 100, 10–10,000): how often a local
 *     dispatcher publishes its queue on {@code chat.dispatch.load} while it changes (and at least once a
 *     second); API instances that hear nothing for ten intervals (at least 5 s) stop refusing
 * @param releaseOnNodeLoss {@code dispatch.release_on_node_loss} (default true): on a clustered node,
 *     when Hazelcast removes a member, end the leases of the replies its workers held and dispatch them
 *     again at once (recovery in the time Hazelcast takes to notice the loss, instead of
 *     {@code worker.lease_ms}); false leaves them to the sweep once their leases run out
 */
public record DispatchSettings(
    String mode,
    long sweepIntervalMs,
    long pendingGraceMs,
    int sweepBatch,
    int maxQueued,
    int maxQueuedPerUser,
    long maxQueueWaitMs,
    long loadIntervalMs,
    boolean releaseOnNodeLoss) {

  public static DispatchSettings from(ConfigReader r) {
    int maxQueued = r.intValue("max_queued", 10_000, 1, 1_000_000);
    int maxPerUser = r.intValue("max_queued_per_user", 50, 1, 100_000);
    if (maxPerUser > maxQueued) {
      throw r.error("max_queued_per_user", "must be at most dispatch.max_queued (" + maxQueued + ")");
    }
    return new DispatchSettings(
        r.oneOf("mode", "local", Set.of("local", "cloud-tasks")),
        r.longValue("sweep_interval_ms", 5000, 50, 3_600_000),
        r.longValue("pending_grace_ms", 15_000, 0, 86_400_000),
        r.intValue("sweep_batch", 100, 1, 10_000),
        maxQueued,
        maxPerUser,
        r.longValue("max_queue_wait_ms", 10_000, 0, 86_400_000),
        r.longValue("load_interval_ms", 100, 10, 10_000),
        r.bool("release_on_node_loss", true));
  }

  public boolean cloudTasks() {
    return mode.equals("cloud-tasks");
  }

  /** How long an API instance trusts a dispatcher's last load snapshot. */
  public long loadStaleAfterMs() {
    return Math.max(5_000, loadIntervalMs * 10);
  }
}
