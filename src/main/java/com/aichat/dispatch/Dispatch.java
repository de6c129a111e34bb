package com.aichat.dispatch;

import com.aichat.contract.DispatchReceipt;
import com.aichat.contract.DispatchRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * How a pending {@code ai_report} placeholder is turned into work: one strategy per
 * {@code dispatch.mode}, chosen in {@link #create} and nowhere else.
 *
 * <p>{@link #dispatch} must never lose a job: when it cannot hand the reply over now it either keeps
 * trying in the background or leaves it {@code pending}, where the recovery sweep of
 * {@link DispatcherVerticle} finds it again. Dispatching the same reply twice is harmless: the worker's
 * atomic claim lets only one of them do the work.
 */
public interface Dispatch {

  /**
   * Hands the reply over. Succeeds once a worker accepted it (or the task was created), or once it was
   * left for a later retry; fails only when the reply could not be handed over and nothing was
   * scheduled, in which case the sweep will find it again.
   */
  Future<Void> dispatch(String messageId);

  /**
   * A {@link com.aichat.contract.Addresses#DISPATCH} request: hands the reply over (or queues it) and
   * answers the receipt for the sender. Fails like {@link #dispatch}, or with {@code OVERLOADED} when a
   * bounded queue is full (the reply stays {@code pending} for the sweep). By default the same as
   * {@link #dispatch}, with no queue information.
   */
  default Future<DispatchReceipt> accept(DispatchRequest request) {
    return dispatch(request.messageId()).map(v -> DispatchReceipt.HANDED_OVER);
  }

  /** Releases clients and timers; called when the dispatcher verticle stops. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /** The strategy of {@code dispatch.mode}: the single place where a mode becomes an implementation. */
  static Future<Dispatch> create(Vertx vertx, DispatchSettings settings, CloudTasksSettings cloudTasks) {
    return switch (settings.mode()) {
      case "local" -> Future.succeededFuture(new LocalDispatch(vertx, settings));
      case "cloud-tasks" -> CloudTasksDispatch.create(vertx, cloudTasks, settings).map(d -> d);
      default ->
          Future.failedFuture(
              new IllegalStateException("dispatch.mode " + settings.mode() + " is not available in this build"));
    };
  }
}
