package com.aichat.api;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchLoad;
import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.ErrorCode;
import com.aichat.dispatch.DispatchSettings;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses a send up front with {@code 503 OVERLOADED} and {@code Retry-After}, before anything is
 * stored, when the local dispatchers' queue is past a limit of {@code dispatch.*}. It decides from what
 * it already holds, with no bus round trip per send: the latest {@link DispatchLoad} of each dispatcher
 * (published on {@link Addresses#DISPATCH_LOAD}, and carried by every {@link DispatchReceipt} this API
 * instance gets back), plus the dispatches this instance sent whose receipt has not come back yet.
 *
 * <p>Refused, in this order: the queued replies (all dispatchers heard from, plus those in flight)
 * reach {@code dispatch.max_queued}; the sending user is one a dispatcher named as over
 * {@code dispatch.max_queued_per_user} or {@code dispatch.max_queue_wait_ms}; or a user with nothing
 * queued would wait longer than {@code dispatch.max_queue_wait_ms}. A dispatcher not heard from for
 * {@link DispatchSettings#loadStaleAfterMs()} no longer counts. In {@code cloud-tasks} mode there is no
 * local queue and nothing is refused. One instance per HTTP API verticle, confined to its event loop.
 */
final class OverloadGuard {

  private static final Logger log = LoggerFactory.getLogger(OverloadGuard.class);

  private record Known(DispatchLoad load, long receivedAtMs) {}

  private final DispatchSettings settings;
  private final Map<String, Known> loads = new HashMap<>();
  private int inFlight;

  OverloadGuard(Vertx vertx, DispatchSettings settings) {
    this.settings = settings;
    if (!settings.cloudTasks()) {
      MessageConsumer<JsonObject> c =
          vertx.eventBus().consumer(Addresses.DISPATCH_LOAD, m -> update(DispatchLoad.fromJson(m.body()), null, null));
      c.exceptionHandler(err -> log.warn("bad dispatch load event: {}", err.getMessage()));
    }
  }

  /** Throws the {@code 503 OVERLOADED} refusal of a send by {@code userId}, if it is to be refused. */
  void check(String userId) {
    if (settings.cloudTasks()) {
      return;
    }
    long now = System.currentTimeMillis();
    int queued = inFlight;
    Long userRetry = null;
    Long newcomerWait = null;
    Long drain = null;
    for (Iterator<Known> it = loads.values().iterator(); it.hasNext(); ) {
      Known k = it.next();
      if (now - k.receivedAtMs() > settings.loadStaleAfterMs()) {
        it.remove();
        continue;
      }
      DispatchLoad l = k.load();
      queued += l.queued();
      userRetry = max(userRetry, l.refusedUsers().get(userId));
      newcomerWait = max(newcomerWait, l.newcomerWaitMs());
      drain = max(drain, l.drainMs());
    }
    if (queued >= settings.maxQueued()) {
      throw refusal("queue_full", queued + " replies are waiting for the AI, the most this service queues",
          drain == null ? 1000 : drain / Math.max(1, queued), queued);
    }
    if (userRetry != null) {
      throw refusal("user_backlog", "you have too many replies waiting for the AI; wait for them first",
          userRetry, queued);
    }
    if (settings.maxQueueWaitMs() > 0 && newcomerWait != null && newcomerWait > settings.maxQueueWaitMs()) {
      throw refusal("wait_too_long", "the AI would start on this reply in about " + (newcomerWait / 1000)
          + " s, more than the " + (settings.maxQueueWaitMs() / 1000) + " s this service accepts",
          newcomerWait - settings.maxQueueWaitMs(), queued);
    }
  }

  /** A dispatch request is on its way; it counts as queued until its receipt (or failure) comes back. */
  void dispatchSent() {
    inFlight++;
  }

  /** The receipt of a dispatch request of {@code userId}, or null when it failed or timed out. */
  void dispatchAnswered(String userId, DispatchReceipt receipt) {
    inFlight = Math.max(0, inFlight - 1);
    if (receipt != null && receipt.load() != null) {
      update(receipt.load(), userId, receipt.userRetryAfterMs());
    }
  }

  /**
   * Keeps the newest snapshot of each dispatcher. A receipt's snapshot has no refused-user list: the
   * previous list is kept, with the receipt's verdict on its own user applied.
   */
  private void update(DispatchLoad load, String userId, Long userRetryAfterMs) {
    Known known = loads.get(load.dispatcherId());
    long now = System.currentTimeMillis();
    boolean fromReceipt = userId != null;
    if (known != null && known.load().version() >= load.version()) {
      if (fromReceipt && userRetryAfterMs != null) {
        loads.put(load.dispatcherId(), new Known(withUser(known.load(), userId, userRetryAfterMs), known.receivedAtMs()));
      }
      return;
    }
    DispatchLoad next = load;
    if (fromReceipt) {
      Map<String, Long> refused = new LinkedHashMap<>(known == null ? Map.of() : known.load().refusedUsers());
      if (userRetryAfterMs == null) {
        refused.remove(userId);
      } else {
        refused.put(userId, userRetryAfterMs);
      }
      next = new DispatchLoad(load.dispatcherId(), load.version(), load.queued(), load.users(), load.slots(),
          load.jobMs(), load.newcomerWaitMs(), load.drainMs(), refused, load.atMs());
    }
    loads.put(load.dispatcherId(), new Known(next, now));
  }

  private static DispatchLoad withUser(DispatchLoad l, String userId, long retryAfterMs) {
    Map<String, Long> refused = new LinkedHashMap<>(l.refusedUsers());
    refused.put(userId, retryAfterMs);
    return new DispatchLoad(l.dispatcherId(), l.version(), l.queued(), l.users(), l.slots(), l.jobMs(),
        l.newcomerWaitMs(), l.drainMs(), refused, l.atMs());
  }

  private static Long max(Long a, Long b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return Long.valueOf(Math.max(a, b));
  }

  private static ApiError refusal(String reason, String message, long retryAfterMs, int queued) {
    long seconds = Math.max(1, (retryAfterMs + 999) / 1000);
    return ApiError.of(ErrorCode.OVERLOADED, message)
        .withDetails(new JsonObject().put("reason", reason).put("queued", queued).put("retryAfterSeconds", seconds))
        .withHeader("Retry-After", Long.toString(seconds));
  }
}
