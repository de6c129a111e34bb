package com.aichat.dispatch;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchLoad;
import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.QueuePosition;
import com.aichat.contract.QueuedEvent;
import com.aichat.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code dispatch.mode = local}: hands replies to AI workers over the event bus, and past their capacity
 * keeps them in a bounded {@link FairQueue} (round-robin across users) until a slot frees.
 *
 * <p><b>Credits, not retries.</b> Each worker instance announces its free slots on
 * {@link Addresses#AI_CAPACITY} when it starts and whenever a job ends, and repeats them in every
 * answer. The dispatcher counts them per worker ({@code free} minus its own offers still unanswered)
 * and sends a job to a worker's own address ({@link Addresses#aiWorker}) only while that worker has a
 * slot, so a full node is never asked again and again (measured before: 27 refused offers per started
 * job at 500 msg/s, see docs/benchmarks.md), and no job keeps a timer of its own. The same goes for the
 * per-user cap: each worker announces its {@code worker.max_per_user}, and the dispatcher counts each
 * user's jobs it has on each worker (offered or running), so a user at the cap there is not offered to
 * that worker until one of those jobs ends. Without that, heap-derived limits (thousands of free slots)
 * would let every capacity announcement re-offer the whole queue of capped users. A refusal (the count
 * was off, or the user's slots there are held by jobs this dispatcher did not start) puts the job back
 * first in line; a user refused as {@code user_busy} is not offered to that worker again until it
 * announces the end of one of that user's jobs or of a job this dispatcher does not know, and at most
 * {@value #PARK_MS} ms later in any case (a lost announcement). While no known worker
 * has a slot, one job at a time is offered on the shared {@link Addresses#AI_GENERATE} address, at most
 * every {@value #PROBE_MS} ms: that recovers from a lost announcement and finds workers that did not
 * answer the {@link Addresses#AI_CAPACITY_QUERY} this dispatcher publishes when it starts.
 *
 * <p><b>Visibility.</b> A reply that has to wait gets one {@code message.queued} event
 * ({@link QueuedEvent}) with its position and expected start, and the receipt carries the same. The
 * queue's size and the users whose next send would be over a limit are published on
 * {@link Addresses#DISPATCH_LOAD} every {@code dispatch.load_interval_ms} while they change.
 *
 * <p><b>Bounds.</b> At most {@code dispatch.max_queued} replies wait here; a dispatch beyond that fails
 * with {@code OVERLOADED} and the reply stays {@code pending} in the store, where the recovery sweep
 * finds it again. Nothing is dropped: every queued job is either handed to a worker or, when this
 * dispatcher stops, left {@code pending} for the sweep.
 */
final class LocalDispatch implements Dispatch {

  private static final Logger log = LoggerFactory.getLogger(LocalDispatch.class);

  /** Shortest gap between two discovery offers on the shared address while no known worker has room. */
  static final long PROBE_MS = 250;

  /** The worker answers before claiming, so this only bounds a lost bus message. */
  private static final long SEND_TIMEOUT_MS = 10_000;

  /** A load snapshot is published at least this often, even when nothing changed. */
  private static final long LOAD_HEARTBEAT_MS = 1_000;

  /** Weight of the newest job in the moving mean of the time a job holds a slot. */
  private static final double JOB_MS_WEIGHT = 0.1;

  /** Jobs whose start time is kept to measure their duration; older ones are forgotten. */
  private static final int MAX_TIMED_JOBS = 100_000;

  /** End announcements of jobs not (yet) known here, kept in case the job's acceptance is still on its way. */
  private static final int MAX_UNMATCHED_ENDS = 10_000;

  /** Longest time a user refused as {@code user_busy} by a worker is kept from offers to that worker. */
  static final long PARK_MS = 1_000;

  /** A job this dispatcher handed to a worker, until the worker announces its end. */
  private record Started(long atMs, String user, String workerId) {}

  /** One worker instance as this dispatcher sees it. */
  private static final class Worker {
    final String id;
    String address;
    int max;
    int free;
    int inFlight;
    /** Its {@code worker.max_per_user}; 0 while not announced (an older worker). */
    int maxPerUser;
    /** Jobs of each user this dispatcher has offered to this worker or that run there. */
    final Map<String, Integer> userJobs = new HashMap<>();
    /** Users this worker refused as {@code user_busy}, with when. */
    final Map<String, Long> parkedAt = new HashMap<>();

    Worker(String id) {
      this.id = id;
    }

    int available() {
      return free - inFlight;
    }

    /** True when this worker has a slot for one more job of {@code user}, as far as this dispatcher knows. */
    boolean hasRoomFor(String user, long now) {
      if (available() <= 0) {
        return false;
      }
      Long parked = parkedAt.get(user);
      if (parked != null) {
        if (now - parked < PARK_MS) {
          return false;
        }
        parkedAt.remove(user);
      }
      return maxPerUser <= 0 || FairQueue.UNKNOWN_USER.equals(user) || userJobs.getOrDefault(user, 0) < maxPerUser;
    }

    void addUserJob(String user) {
      userJobs.merge(user, 1, Integer::sum);
    }

    void removeUserJob(String user) {
      userJobs.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
    }
  }

  private final Vertx vertx;
  private final DispatchSettings settings;
  private final String dispatcherId = UUID.randomUUID().toString();
  private final FairQueue queue;
  private final Map<String, Worker> workers = new LinkedHashMap<>();
  private final Map<String, Started> startedAt =
      new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Started> eldest) {
          if (size() <= MAX_TIMED_JOBS) {
            return false;
          }
          Worker w = workers.get(eldest.getValue().workerId());
          if (w != null) {
            w.removeUserJob(eldest.getValue().user());
          }
          return true;
        }
      };
  /** Jobs whose end was announced before this dispatcher saw them accepted (an answer still on its way). */
  private final Map<String, Boolean> unmatchedEnds =
      new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
          return size() > MAX_UNMATCHED_ENDS;
        }
      };
  private final MessageConsumer<JsonObject> capacity;
  private final long loadTimer;
  /** Mean time a job of this dispatcher held a worker slot, ms; null until one finished. */
  private Double jobMs;
  /** The user whose first job a discovery offer is out for; null when none is. */
  private String probing;
  private long probeTimer = -1;
  private long lastProbeAt;
  private long version;
  private boolean changed = true;
  private long lastPublishedAt;
  private boolean closed;

  LocalDispatch(Vertx vertx, DispatchSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.queue = new FairQueue(Metrics.of(vertx)::pending);
    this.capacity = vertx.eventBus().consumer(Addresses.AI_CAPACITY, this::onCapacity);
    this.loadTimer = vertx.setPeriodic(settings.loadIntervalMs(), t -> publishLoad());
    capacity.completion().onSuccess(v -> vertx.eventBus().publish(Addresses.AI_CAPACITY_QUERY, new JsonObject()));
  }

  @Override
  public Future<Void> dispatch(String messageId) {
    return accept(new DispatchRequest(messageId, null, null)).mapEmpty();
  }

  @Override
  public Future<DispatchReceipt> accept(DispatchRequest request) {
    String user = FairQueue.userOf(request);
    if (closed) {
      return Future.failedFuture(ErrorCode.UNAVAILABLE.failure("the dispatcher is stopping"));
    }
    if (queue.contains(request.messageId())) {
      return Future.succeededFuture(receipt(null, user));
    }
    if (queue.size() >= settings.maxQueued()) {
      log.warn("queue full ({} replies): reply {} left pending for the recovery sweep", queue.size(),
          request.messageId());
      return Future.failedFuture(ErrorCode.OVERLOADED.failure("the dispatch queue is full"));
    }
    FairQueue.Entry entry = new FairQueue.Entry(request);
    int position = queue.add(entry);
    changed = true;
    pump();
    if (!queue.contains(request.messageId())) {
      return Future.succeededFuture(receipt(null, user)); // a worker with a free slot is being offered it
    }
    QueuePosition where = positionOf(position, FairQueue.UNKNOWN_USER.equals(user) ? 0 : queue.length(user));
    announce(entry, where);
    return Future.succeededFuture(receipt(where, user));
  }

  // ---- handing jobs to workers ------------------------------------------------------------------

  /** Offers waiting jobs, in fair order, to workers while they have free slots. */
  private void pump() {
    while (!closed && !queue.isEmpty()) {
      if (roomiestWorker() == null) {
        break;
      }
      long now = System.currentTimeMillis();
      FairQueue.Entry e = queue.poll(user -> skipped(user, now));
      if (e == null) {
        return; // every waiting user is at its per-user cap (or probed); the next freed slot wakes them
      }
      changed = true;
      offer(workerFor(e.user(), now), e);
    }
    if (!closed && !queue.isEmpty()) {
      scheduleProbe();
    }
  }

  /** The worker with the most free slots that has room for one more job of {@code user}; null when none. */
  private Worker workerFor(String user, long now) {
    Worker best = null;
    for (Worker w : workers.values()) {
      if (w.hasRoomFor(user, now) && (best == null || w.available() > best.available())) {
        best = w;
      }
    }
    return best;
  }

  private Worker roomiestWorker() {
    Worker best = null;
    for (Worker w : workers.values()) {
      if (w.available() > 0 && (best == null || w.available() > best.available())) {
        best = w;
      }
    }
    return best;
  }

  private void offer(Worker w, FairQueue.Entry e) {
    w.inFlight++;
    w.addUserJob(e.user());
    vertx.eventBus()
        .<JsonObject>request(w.address, generateRequest(e), new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS))
        .map(reply -> GenerateRequest.Answer.fromJson(reply.body()))
        .onComplete(ar -> {
          w.inFlight--;
          if (ar.succeeded()) {
            learn(ar.result());
            settle(w, e, ar.result());
          } else {
            w.removeUserJob(e.user());
            forgetWorker(w, ar.cause());
            putBack(e);
          }
          pump();
        });
  }

  /** While no known worker has room: one job on the shared address, to find workers and lost slots. */
  private void scheduleProbe() {
    if (probing != null || probeTimer >= 0 || roomiestWorker() != null) {
      return;
    }
    long wait = Math.max(0, lastProbeAt + PROBE_MS - System.currentTimeMillis());
    if (wait == 0) {
      probe();
    } else {
      probeTimer = vertx.setTimer(wait, t -> {
        probeTimer = -1;
        probe();
      });
    }
  }

  /**
   * The probe's job stays queued (its user is skipped meanwhile, so it is offered nowhere else and the
   * positions stay right) and leaves the queue only when a worker accepts it.
   */
  private void probe() {
    if (closed || roomiestWorker() != null) {
      pump();
      return;
    }
    long now = System.currentTimeMillis();
    FairQueue.Entry e = queue.peek(user -> user.equals(probing) || cappedEverywhere(user, now));
    if (e == null) {
      return;
    }
    probing = e.user();
    lastProbeAt = System.currentTimeMillis();
    vertx.eventBus()
        .<JsonObject>request(Addresses.AI_GENERATE, generateRequest(e), new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS))
        .map(reply -> GenerateRequest.Answer.fromJson(reply.body()))
        .onComplete(ar -> {
          probing = null;
          if (ar.succeeded()) {
            learn(ar.result());
            if (ar.result().accepted() && queue.remove(e)) {
              changed = true;
            }
            Worker w = ar.result().workerId() == null ? null : workers.get(ar.result().workerId());
            if (ar.result().accepted()) {
              if (w != null) {
                w.addUserJob(e.user());
              }
              started(w, e);
            } else if (w != null && GenerateRequest.Answer.USER_BUSY.equals(ar.result().reason())) {
              w.parkedAt.put(e.user(), System.currentTimeMillis());
            }
          } else {
            log.debug("no worker took reply {} now: {}", e.messageId(), ar.cause().getMessage());
          }
          if (!e.announced && queue.contains(e.messageId())) {
            announce(e, positionOf(1, e.request.userId() == null ? 0 : 1));
          }
          pump();
        });
  }

  /**
   * Users not offered now: no known worker has room for one more of their jobs (per-user cap), or a
   * probe is asking about their job.
   */
  private boolean skipped(String user, long now) {
    return user.equals(probing) || workerFor(user, now) == null;
  }

  /** True when every known worker (at least one) is, for {@code user}, at its per-user cap or parked. */
  private boolean cappedEverywhere(String user, long now) {
    if (workers.isEmpty()) {
      return false;
    }
    for (Worker w : workers.values()) {
      Long parked = w.parkedAt.get(user);
      boolean atCap = w.maxPerUser > 0 && !FairQueue.UNKNOWN_USER.equals(user)
          && w.userJobs.getOrDefault(user, 0) >= w.maxPerUser;
      if (!atCap && (parked == null || now - parked >= PARK_MS)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Counts a job a worker accepted (its user's job at {@code w} is counted already), until that worker
   * announces its end; if the end came first, the job is uncounted at once.
   */
  private void started(Worker w, FairQueue.Entry e) {
    if (unmatchedEnds.remove(e.messageId()) != null) {
      if (w != null) {
        w.removeUserJob(e.user());
      }
      return;
    }
    startedAt.put(e.messageId(), new Started(System.currentTimeMillis(), e.user(), w == null ? null : w.id));
  }

  private static JsonObject generateRequest(FairQueue.Entry e) {
    return new GenerateRequest(e.messageId(), e.request.userId(), e.request.sessionId(), true, null).toJson();
  }

  /** The outcome of one offer: started, or back first in line. */
  private void settle(Worker w, FairQueue.Entry e, GenerateRequest.Answer answer) {
    if (answer.accepted()) {
      started(w, e); // its user's job at w stays counted until w announces its end
      return;
    }
    w.removeUserJob(e.user());
    if (GenerateRequest.Answer.USER_BUSY.equals(answer.reason())) {
      w.parkedAt.put(e.user(), System.currentTimeMillis());
    }
    putBack(e);
  }

  private void putBack(FairQueue.Entry e) {
    if (closed) {
      return; // left pending in the store; the sweep re-dispatches it
    }
    queue.pushFront(e);
    changed = true;
    if (!e.announced && e.request.userId() != null) {
      announce(e, positionOf(1, 1));
    }
  }

  /** A worker's answer names it and its free slots. */
  private void learn(GenerateRequest.Answer a) {
    if (a.workerId() == null || a.address() == null || a.free() == null) {
      return; // an older worker: no credit counting for it, only probes
    }
    Worker w = workers.computeIfAbsent(a.workerId(), Worker::new);
    w.address = a.address();
    w.free = a.free();
    w.max = a.max() == null ? Math.max(w.max, a.free()) : a.max();
    if (a.maxPerUser() != null) {
      w.maxPerUser = a.maxPerUser();
    }
  }

  private void forgetWorker(Worker w, Throwable err) {
    if (err instanceof ReplyException) {
      log.info("worker {} did not answer ({}); forgetting it until it announces itself again", w.id, err.getMessage());
      workers.remove(w.id);
    }
  }

  /** A worker started or finished a job: count its free slots, measure the job, wake parked users. */
  private void onCapacity(Message<JsonObject> msg) {
    JsonObject c = msg.body();
    if (c == null || c.getString("workerId") == null || c.getString("address") == null) {
      return;
    }
    Worker w = workers.computeIfAbsent(c.getString("workerId"), Worker::new);
    w.address = c.getString("address");
    w.free = c.getInteger("free", 0);
    w.max = c.getInteger("max", Math.max(w.max, w.free));
    w.maxPerUser = c.getInteger("maxPerUser", w.maxPerUser);
    Started started = c.getString("messageId") == null ? null : startedAt.remove(c.getString("messageId"));
    if (started != null) {
      long ms = Math.max(0, System.currentTimeMillis() - started.atMs());
      jobMs = jobMs == null ? ms : jobMs * (1 - JOB_MS_WEIGHT) + ms * JOB_MS_WEIGHT;
      Worker ran = started.workerId() == null ? null : workers.get(started.workerId());
      if (ran != null) {
        ran.removeUserJob(started.user());
      }
      w.parkedAt.remove(started.user()); // that user has a slot there again
    } else {
      // a start, a query answer, or a job this dispatcher did not hand out: anyone may have room now
      w.parkedAt.clear();
      if (c.getString("messageId") != null) {
        unmatchedEnds.put(c.getString("messageId"), Boolean.TRUE);
      }
    }
    if (w.free >= w.max && w.inFlight == 0) {
      w.userJobs.clear(); // an idle worker runs no one's jobs: drop counts an announcement lost
    }
    changed = true;
    pump();
  }

  // ---- estimates, events, load ----------------------------------------------------------------

  private int slots() {
    int n = 0;
    for (Worker w : workers.values()) {
      n += w.max;
    }
    return n;
  }

  /**
   * Slots one user can hold at once: each worker's {@code worker.max_per_user} (its whole {@code max}
   * when it does not say), summed over the known workers.
   */
  private int userSlots() {
    int n = 0;
    for (Worker w : workers.values()) {
      n += w.maxPerUser > 0 ? Math.min(w.maxPerUser, w.max) : w.max;
    }
    return n;
  }

  /** Expected wait until the reply at {@code position} starts, counting only the shared slots. */
  private Long expectedWaitMs(int position) {
    return expectedWaitMs(position, 0);
  }

  /**
   * Expected wait until the reply at {@code position} starts, when it is its user's {@code userRank}-th
   * waiting reply (0: not counted per user); null while unmeasured. It is the longer of two bounds: the
   * queue drains through all slots ({@code position × jobMs / slots}), and one user's backlog drains only
   * through the slots that user may hold ({@code userRank × jobMs / userSlots}). The second one binds
   * when the workers have far more slots than the waiting users may use, e.g. heap-derived limits of
   * thousands with {@code worker.max_per_user} 2.
   */
  private Long expectedWaitMs(int position, int userRank) {
    int slots = slots();
    if (jobMs == null || slots == 0) {
      return null;
    }
    double wait = position * jobMs / slots;
    int userSlots = userSlots();
    if (userRank > 0 && userSlots > 0) {
      wait = Math.max(wait, userRank * jobMs / Math.min(userSlots, slots));
    }
    return Math.round(wait);
  }

  private QueuePosition positionOf(int position) {
    return positionOf(position, 0);
  }

  private QueuePosition positionOf(int position, int userRank) {
    Long wait = expectedWaitMs(position, userRank);
    return new QueuePosition(position, queue.size(), wait,
        wait == null ? null : Instant.now().plusMillis(wait));
  }

  private void announce(FairQueue.Entry e, QueuePosition where) {
    e.announced = true;
    if (e.request.userId() == null || e.request.sessionId() == null) {
      return;
    }
    QueuedEvent event = new QueuedEvent(e.request.userId(), e.request.sessionId(), e.messageId(), where);
    vertx.eventBus().publish(Addresses.EVENTS_MESSAGE, event.toJson());
  }

  /**
   * When {@code user}'s next send would be refused, how long until it may retry; null when it would be
   * accepted (as far as this dispatcher's limits go).
   */
  private Long userRetryAfterMs(String user, int length, int nextPosition) {
    if (FairQueue.UNKNOWN_USER.equals(user)) {
      return null;
    }
    if (length >= settings.maxQueuedPerUser()) {
      Long round = expectedWaitMs(Math.max(1, queue.users()));
      return Math.max(1000, round == null ? 1000 : round);
    }
    Long wait = settings.maxQueueWaitMs() > 0 ? expectedWaitMs(nextPosition, length + 1) : null;
    if (wait != null && wait > settings.maxQueueWaitMs()) {
      return Math.max(1000, wait - settings.maxQueueWaitMs());
    }
    return null;
  }

  private DispatchReceipt receipt(QueuePosition where, String user) {
    return new DispatchReceipt(where, snapshot(false),
        userRetryAfterMs(user, queue.length(user), queue.nextPosition(user)));
  }

  private DispatchLoad snapshot(boolean withRefusedUsers) {
    Map<String, Long> refused = new LinkedHashMap<>();
    if (withRefusedUsers) {
      int[] sums = queue.prefixSums();
      queue.forEachUser((user, length) -> {
        Long retry = userRetryAfterMs(user, length, FairQueue.nextPosition(length, sums));
        if (retry != null) {
          refused.put(user, retry);
        }
      });
    }
    return new DispatchLoad(dispatcherId, ++version, queue.size(), queue.users(), slots(),
        jobMs == null ? null : Math.round(jobMs), expectedWaitMs(queue.users() + 1),
        expectedWaitMs(Math.max(1, queue.size())), refused, System.currentTimeMillis());
  }

  private void publishLoad() {
    if (!queue.isEmpty()) {
      pump(); // users parked by a refusal become eligible again after PARK_MS
    }
    long now = System.currentTimeMillis();
    if (!changed && now - lastPublishedAt < LOAD_HEARTBEAT_MS) {
      return;
    }
    changed = false;
    lastPublishedAt = now;
    vertx.eventBus().publish(Addresses.DISPATCH_LOAD, snapshot(true).toJson());
  }

  @Override
  public Future<Void> close() {
    closed = true;
    vertx.cancelTimer(loadTimer);
    if (probeTimer >= 0) {
      vertx.cancelTimer(probeTimer);
    }
    if (!queue.isEmpty()) {
      log.info("dispatcher stopping with {} replies queued; they stay pending for the recovery sweep", queue.size());
    }
    queue.clear();
    return capacity.unregister();
  }
}
