package com.aichat.dispatch;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchLoad;
import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.QueuePosition;
import com.aichat.contract.QueuedEvent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
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
 * job at 500 msg/s, see docs/benchmarks.md), and no job keeps a timer of its own. A refusal (the count
 * was off, or the user is at {@code worker.max_per_user} there) puts the job back first in line; a user
 * refused as {@code user_busy} is skipped until a worker announces a freed slot. While no known worker
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

  /** One worker instance as this dispatcher sees it. */
  private static final class Worker {
    final String id;
    String address;
    int max;
    int free;
    int inFlight;

    Worker(String id) {
      this.id = id;
    }

    int available() {
      return free - inFlight;
    }
  }

  private final Vertx vertx;
  private final DispatchSettings settings;
  private final String dispatcherId = UUID.randomUUID().toString();
  private final FairQueue queue = new FairQueue();
  private final Map<String, Worker> workers = new LinkedHashMap<>();
  private final Set<String> parkedUsers = new HashSet<>();
  private final Map<String, Long> startedAt =
      new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
          return size() > MAX_TIMED_JOBS;
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
    QueuePosition where = positionOf(position);
    announce(entry, where);
    return Future.succeededFuture(receipt(where, user));
  }

  // ---- handing jobs to workers ------------------------------------------------------------------

  /** Offers waiting jobs, in fair order, to workers while they have free slots. */
  private void pump() {
    while (!closed && !queue.isEmpty()) {
      Worker w = roomiestWorker();
      if (w == null) {
        break;
      }
      FairQueue.Entry e = queue.poll(this::skipped);
      if (e == null) {
        return; // every waiting user is at its per-user cap (or probed); the next freed slot wakes them
      }
      changed = true;
      offer(w, e);
    }
    if (!closed && !queue.isEmpty()) {
      scheduleProbe();
    }
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
    vertx.eventBus()
        .<JsonObject>request(w.address, generateRequest(e), new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS))
        .map(reply -> GenerateRequest.Answer.fromJson(reply.body()))
        .onComplete(ar -> {
          w.inFlight--;
          if (ar.succeeded()) {
            learn(ar.result());
            settle(e, ar.result());
          } else {
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
    FairQueue.Entry e = queue.peek(this::skipped);
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
            if (ar.result().accepted()) {
              startedAt.put(e.messageId(), System.currentTimeMillis());
            } else if (GenerateRequest.Answer.USER_BUSY.equals(ar.result().reason())) {
              parkedUsers.add(e.user());
            }
          } else {
            log.debug("no worker took reply {} now: {}", e.messageId(), ar.cause().getMessage());
          }
          if (!e.announced && queue.contains(e.messageId())) {
            announce(e, positionOf(1));
          }
          pump();
        });
  }

  /** Users not offered now: at a worker's per-user cap, or the one whose job a probe is asking about. */
  private boolean skipped(String user) {
    return parkedUsers.contains(user) || user.equals(probing);
  }

  private static JsonObject generateRequest(FairQueue.Entry e) {
    return new GenerateRequest(e.messageId(), e.request.userId(), true, null).toJson();
  }

  /** The outcome of one offer: started, or back first in line. */
  private void settle(FairQueue.Entry e, GenerateRequest.Answer answer) {
    if (answer.accepted()) {
      startedAt.put(e.messageId(), System.currentTimeMillis());
      return;
    }
    if (GenerateRequest.Answer.USER_BUSY.equals(answer.reason())) {
      parkedUsers.add(e.user());
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
      announce(e, positionOf(1));
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
    Long started = c.getString("messageId") == null ? null : startedAt.remove(c.getString("messageId"));
    if (started != null) {
      long ms = Math.max(0, System.currentTimeMillis() - started);
      jobMs = jobMs == null ? ms : jobMs * (1 - JOB_MS_WEIGHT) + ms * JOB_MS_WEIGHT;
    }
    parkedUsers.clear();
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

  /** Expected wait until the reply at {@code position} starts; null while unmeasured. */
  private Long expectedWaitMs(int position) {
    int slots = slots();
    if (jobMs == null || slots == 0) {
      return null;
    }
    return Math.round(position * jobMs / slots);
  }

  private QueuePosition positionOf(int position) {
    Long wait = expectedWaitMs(position);
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
    Long wait = settings.maxQueueWaitMs() > 0 ? expectedWaitMs(nextPosition) : null;
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
