package com.aichat.dispatch;

import com.aichat.contract.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code dispatch.mode = local}: sends the job to an AI worker over the event bus
 * ({@link Addresses#AI_GENERATE}). The worker answers at once, so the request never waits for a
 * generation. When every worker it reaches is busy (or none is deployed), the job is offered again
 * after a short capped backoff, for at most {@code dispatch.pending_grace_ms}; after that it stays
 * {@code pending} and the recovery sweep re-dispatches it. Nothing is dropped.
 *
 * <p>Waiting jobs are also re-offered, oldest first, as soon as a worker announces a free slot on
 * {@link Addresses#AI_CAPACITY}, so a freed slot does not sit idle until the next backoff timer
 * (measured before this: p99 send→completed 3.5 s at 50 sessions on 16 slots, see
 * docs/benchmarks.md).
 */
final class LocalDispatch implements Dispatch {

  private static final Logger log = LoggerFactory.getLogger(LocalDispatch.class);

  /** First re-offer delay after a busy answer; doubles up to {@link #RETRY_MAX_MS}. */
  static final long RETRY_INITIAL_MS = 100;

  static final long RETRY_MAX_MS = 2000;

  /** The worker answers before claiming, so this only bounds a lost bus message. */
  private static final long SEND_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final DispatchSettings settings;
  /**
   * Replies with a background re-offer scheduled, oldest first, so the sweep does not pile up
   * duplicates and freed slots go to the longest-waiting job.
   */
  private final Set<String> retrying = new LinkedHashSet<>();
  private final Set<Long> timers = new HashSet<>();
  private boolean closed;

  private final MessageConsumer<JsonObject> capacity;

  LocalDispatch(Vertx vertx, DispatchSettings settings) {
    this.vertx = vertx;
    this.settings = settings;
    this.capacity = vertx.eventBus().consumer(Addresses.AI_CAPACITY, this::offerWaiting);
  }

  /** A worker freed slots: offer that many waiting jobs now (their timers stay as a fallback). */
  private void offerWaiting(Message<JsonObject> msg) {
    int free = msg.body() == null ? 1 : Math.max(1, msg.body().getInteger("free", 1));
    List<String> next = retrying.stream().limit(free).toList();
    for (String messageId : next) {
      offer(messageId).onSuccess(accepted -> {
        if (accepted) {
          retrying.remove(messageId);
        }
      });
    }
  }

  @Override
  public Future<Void> dispatch(String messageId) {
    if (retrying.contains(messageId)) {
      return Future.succeededFuture();
    }
    return offer(messageId)
        .map(accepted -> {
          if (!accepted) {
            retryLater(messageId, RETRY_INITIAL_MS, System.currentTimeMillis() + settings.pendingGraceMs());
          }
          return null;
        });
  }

  /** One offer to a worker; true when accepted. A missing or failing worker counts as busy. */
  private Future<Boolean> offer(String messageId) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(SEND_TIMEOUT_MS);
    return vertx
        .eventBus()
        .<JsonObject>request(Addresses.AI_GENERATE, new JsonObject().put("messageId", messageId), opts)
        .map(reply -> reply.body().getBoolean("accepted", false))
        .recover(err -> {
          log.debug("no worker took reply {} now: {}", messageId, err.getMessage());
          return Future.succeededFuture(false);
        });
  }

  private void retryLater(String messageId, long delayMs, long giveUpAt) {
    if (closed || System.currentTimeMillis() + delayMs > giveUpAt) {
      retrying.remove(messageId);
      log.debug("reply {} left pending for the recovery sweep", messageId);
      return;
    }
    retrying.add(messageId);
    long[] id = new long[1];
    id[0] = vertx.setTimer(delayMs, t -> {
      timers.remove(id[0]);
      if (!retrying.contains(messageId)) {
        return; // a freed slot already took it
      }
      offer(messageId).onSuccess(accepted -> {
        if (accepted) {
          retrying.remove(messageId);
        } else {
          retryLater(messageId, Math.min(delayMs * 2, RETRY_MAX_MS), giveUpAt);
        }
      });
    });
    timers.add(id[0]);
  }

  @Override
  public Future<Void> close() {
    closed = true;
    timers.forEach(vertx::cancelTimer);
    timers.clear();
    retrying.clear();
    return capacity.unregister();
  }
}
