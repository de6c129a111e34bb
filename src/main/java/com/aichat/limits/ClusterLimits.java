package com.aichat.limits;

import com.aichat.metrics.Metrics;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user limits counted once for the whole cluster, in two Hazelcast maps of the cluster Vert.x
 * already runs on. Every check is one entry processor on the key's partition owner (atomic there, with
 * Hazelcast's synchronous backup to one other member), so it costs one or two member round trips and
 * holds no lock; entries carry a TTL, so nothing accumulates.
 *
 * <ul>
 *   <li>{@value #RATE_MAP}: key {@code userId@minute}, the number of requests admitted in that fixed
 *       one-minute window (never counted past the limit); TTL {@value #WINDOW_TTL_SECONDS} s.
 *   <li>{@value #SLOT_MAP}: key {@code userId}, the generation slots the user holds: reply id to the
 *       workers holding it, each with its lease end. A hold is renewed while its job runs and dropped
 *       when it ends; the hold of a worker that died lapses after {@code worker.lease_ms}, like its
 *       claim. A reply keeps its one slot across workers (the store's claim lease decides who runs
 *       it), so a reply taken over after a failure, or dispatched to two workers at once, does not need
 *       a second slot; and a worker that gives its hold back (it lost the claim) leaves the slot held
 *       for the worker that runs the reply.
 * </ul>
 *
 * Times are the caller's clock ({@code nowMillis} arguments), so the primary and its backup apply the
 * same change; nodes' clocks must agree to well within a lease (NTP).
 *
 * <p>Every future fails (it never hangs) when the cluster does not answer within
 * {@code limits.cluster_timeout_ms}; callers then fall back to their node-local count.
 */
public final class ClusterLimits {

  private static final Logger log = LoggerFactory.getLogger(ClusterLimits.class);

  /** At most one fallback warning per this many ms per node (an outage fails every request). */
  static final long FALLBACK_LOG_INTERVAL_MS = 10_000;

  /** Hazelcast map of the REST rate-limit windows. */
  public static final String RATE_MAP = "chat.limits.rate";

  /** Hazelcast map of the per-user generation slots. */
  public static final String SLOT_MAP = "chat.limits.generation-slots";

  /** A window's entry outlives its minute by one more minute (late requests, clock differences). */
  static final long WINDOW_TTL_SECONDS = 120;

  private final Vertx vertx;
  private final long timeoutMs;
  private final IMap<String, Long> windows;
  private final IMap<String, HashMap<String, Slot>> slots;
  private final AtomicLong lastFallbackLog = new AtomicLong();

  private ClusterLimits(Vertx vertx, HazelcastInstance hz, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
    this.windows = hz.getMap(RATE_MAP);
    this.slots = hz.getMap(SLOT_MAP);
  }

  /**
   * The cluster-wide limits of {@code vertx}: null (count locally) when {@code limits.scope} is
   * {@code node} or the Vert.x is not clustered on Hazelcast. Looking the maps up may block, so it runs
   * on a worker thread.
   */
  public static Future<ClusterLimits> of(Vertx vertx, LimitsSettings settings) {
    HazelcastInstance hz = settings.clusterWide() ? hazelcast(vertx) : null;
    if (hz == null) {
      return Future.succeededFuture(null);
    }
    return vertx.executeBlocking(() -> {
      ClusterLimits limits = new ClusterLimits(vertx, hz, settings.clusterTimeoutMs());
      limits.warmUp();
      return limits;
    });
  }

  /** Key of the entry the warm-up reads; no user id has this form (they carry no spaces). */
  static final String WARM_UP_KEY = "warm up";

  /**
   * Runs one read-only entry processor on each map, blocking (a worker thread) for at most
   * {@value #WARM_UP_TIMEOUT_SECONDS} s. The first operation of a map on a member creates its proxy and
   * partition containers and loads the processor classes, which can take longer than
   * {@code limits.cluster_timeout_ms}; without this, the first reply or request after a start could
   * fall back to the node-local count. A failure here only logs: the limits fall back as usual.
   */
  private void warmUp() {
    long now = System.currentTimeMillis();
    try {
      slots.submitToKey(WARM_UP_KEY, new CountSlots(now)).toCompletableFuture()
          .get(WARM_UP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      windows.getAsync(WARM_UP_KEY).toCompletableFuture().get(WARM_UP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("cluster-wide limits did not answer a warm-up read ({}); they fall back to node-local counts "
          + "while the cluster does not answer", e.toString());
    }
  }

  static final long WARM_UP_TIMEOUT_SECONDS = 10;

  private static HazelcastInstance hazelcast(Vertx vertx) {
    if (!vertx.isClustered() || !(vertx instanceof VertxInternal vi)) {
      return null;
    }
    ClusterManager cm = vi.clusterManager();
    return cm instanceof HazelcastClusterManager h ? h.getHazelcastInstance() : null;
  }

  /**
   * Counts one request of {@code userId} in the window {@code minute} against {@code limit}: the
   * window's count after it, or {@code limit + 1} when the window was full already (then nothing is
   * counted).
   */
  public Future<Long> countRequest(String userId, long minute, int limit) {
    return call(() -> windows.submitToKey(userId + "@" + minute, new CountRequest(limit)));
  }

  /**
   * Takes or renews a generation slot of {@code userId} for reply {@code messageId} on worker
   * {@code workerId}, until {@code nowMillis + leaseMs}: true when the reply holds a slot now (it had
   * one, or fewer than {@code cap} are held), false when the user holds {@code cap} slots for other
   * replies.
   */
  public Future<Boolean> acquireSlot(String userId, String messageId, String workerId, int cap, long nowMillis,
      long leaseMs) {
    return call(() -> slots.submitToKey(userId, new AcquireSlot(messageId, workerId, cap, nowMillis, leaseMs)));
  }

  /** Drops worker {@code workerId}'s hold of the slot of reply {@code messageId}; the slot is free once no worker holds it. */
  public Future<Boolean> releaseSlot(String userId, String messageId, String workerId, long nowMillis) {
    return call(() -> slots.submitToKey(userId, new ReleaseSlot(messageId, workerId, nowMillis)));
  }

  /** Slots {@code userId} holds now (for tests and operators). */
  public Future<Integer> heldSlots(String userId, long nowMillis) {
    return call(() -> slots.submitToKey(userId, new CountSlots(nowMillis)));
  }

  /**
   * Records that a cluster-wide check of {@code limit} ({@code rate}, {@code generation}) failed and
   * the node-local count decided: the {@code aichat_limits_fallbacks_total{limit}} counter, and a
   * warning at most every {@value #FALLBACK_LOG_INTERVAL_MS} ms.
   */
  public void fellBack(String limit, Throwable err) {
    Metrics.of(vertx).limitFallback(limit);
    long now = System.currentTimeMillis();
    long last = lastFallbackLog.get();
    if (now - last >= FALLBACK_LOG_INTERVAL_MS && lastFallbackLog.compareAndSet(last, now)) {
      log.warn("cluster-wide {} limit unavailable ({}); counting on this node only until it answers again",
          limit, err.toString());
    }
  }

  private interface Op<T> {
    CompletionStage<T> start();
  }

  private <T> Future<T> call(Op<T> op) {
    CompletionStage<T> stage;
    try {
      stage = op.start();
    } catch (RuntimeException e) {
      // e.g. HazelcastInstanceNotActiveException: this member has left the cluster
      return Future.failedFuture(e);
    }
    return Future.fromCompletionStage(stage, vertx.getOrCreateContext()).timeout(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /** One generation slot: each worker holding it, with the end of its hold's lease. */
  record Slot(HashMap<String, Long> holders) implements Serializable {

    Slot held(String workerId, long untilMillis) {
      HashMap<String, Long> next = new HashMap<>(holders);
      next.put(workerId, untilMillis);
      return new Slot(next);
    }

    /** This slot without the worker's hold; null when no hold is left. */
    Slot without(String workerId) {
      HashMap<String, Long> next = new HashMap<>(holders);
      next.remove(workerId);
      return next.isEmpty() ? null : new Slot(next);
    }

    /** The holds whose lease has not ended at {@code now}; null when none is left. */
    Slot live(long now) {
      HashMap<String, Long> next = new HashMap<>();
      holders.forEach((worker, until) -> {
        if (until > now) {
          next.put(worker, until);
        }
      });
      return next.isEmpty() ? null : new Slot(next);
    }

    long untilMillis() {
      return holders.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    static Slot of(String workerId, long untilMillis) {
      return new Slot(new HashMap<>()).held(workerId, untilMillis);
    }
  }

  /** Increments a window's count unless it reached the limit; answers the count (limit + 1 when full). */
  static final class CountRequest implements EntryProcessor<String, Long, Long> {
    private final int limit;

    CountRequest(int limit) {
      this.limit = limit;
    }

    @Override
    public Long process(Map.Entry<String, Long> entry) {
      long count = entry.getValue() == null ? 0 : entry.getValue();
      if (count >= limit) {
        return (long) limit + 1;
      }
      ((ExtendedMapEntry<String, Long>) entry).setValue(count + 1, WINDOW_TTL_SECONDS, TimeUnit.SECONDS);
      return count + 1;
    }
  }

  /** Takes or renews a slot (see {@link #acquireSlot}). */
  static final class AcquireSlot implements EntryProcessor<String, HashMap<String, Slot>, Boolean> {
    private final String messageId;
    private final String workerId;
    private final int cap;
    private final long now;
    private final long leaseMs;

    AcquireSlot(String messageId, String workerId, int cap, long now, long leaseMs) {
      this.messageId = messageId;
      this.workerId = workerId;
      this.cap = cap;
      this.now = now;
      this.leaseMs = leaseMs;
    }

    @Override
    public Boolean process(Map.Entry<String, HashMap<String, Slot>> entry) {
      HashMap<String, Slot> held = live(entry.getValue(), now);
      Slot slot = held.get(messageId);
      boolean granted = slot != null || held.size() < cap;
      if (granted) {
        held.put(messageId, slot == null ? Slot.of(workerId, now + leaseMs) : slot.held(workerId, now + leaseMs));
      }
      store(entry, held, now);
      return granted;
    }
  }

  /** Drops the given worker's hold of a slot; the slot is free once no worker holds it. */
  static final class ReleaseSlot implements EntryProcessor<String, HashMap<String, Slot>, Boolean> {
    private final String messageId;
    private final String workerId;
    private final long now;

    ReleaseSlot(String messageId, String workerId, long now) {
      this.messageId = messageId;
      this.workerId = workerId;
      this.now = now;
    }

    @Override
    public Boolean process(Map.Entry<String, HashMap<String, Slot>> entry) {
      if (entry.getValue() == null) {
        return false;
      }
      HashMap<String, Slot> held = live(entry.getValue(), now);
      Slot slot = held.get(messageId);
      boolean released = slot != null && slot.holders().containsKey(workerId);
      if (released) {
        Slot rest = slot.without(workerId);
        if (rest == null) {
          held.remove(messageId);
        } else {
          held.put(messageId, rest);
        }
      }
      store(entry, held, now);
      return released;
    }
  }

  /** Counts the live slots, changing nothing. */
  static final class CountSlots implements EntryProcessor<String, HashMap<String, Slot>, Integer> {
    private final long now;

    CountSlots(long now) {
      this.now = now;
    }

    @Override
    public Integer process(Map.Entry<String, HashMap<String, Slot>> entry) {
      return entry.getValue() == null ? 0 : live(entry.getValue(), now).size();
    }

    @Override
    public EntryProcessor<String, HashMap<String, Slot>, Integer> getBackupProcessor() {
      return null; // reads only
    }
  }

  /** The slots whose lease has not ended, as a new map. */
  static HashMap<String, Slot> live(HashMap<String, Slot> held, long now) {
    HashMap<String, Slot> out = new HashMap<>();
    if (held != null) {
      held.forEach((id, slot) -> {
        Slot live = slot.live(now);
        if (live != null) {
          out.put(id, live);
        }
      });
    }
    return out;
  }

  /** Writes the slots back with a TTL to the last lease end, or deletes the entry when none is left. */
  static void store(Map.Entry<String, HashMap<String, Slot>> entry, HashMap<String, Slot> held, long now) {
    if (held.isEmpty()) {
      if (entry.getValue() != null) {
        entry.setValue(null);
      }
      return;
    }
    long last = held.values().stream().mapToLong(Slot::untilMillis).max().orElse(now);
    ((ExtendedMapEntry<String, HashMap<String, Slot>>) entry).setValue(held, Math.max(1, last - now), TimeUnit.MILLISECONDS);
  }
}
