package com.aichat.dispatch;

import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.SessionJobRequest;
import com.aichat.metrics.Metrics;
import com.aichat.persistence.ChatStore;
import com.aichat.persistence.ChatStoreClient;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
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
 * dispatched again, at most {@code dispatch.sweep_batch} per round. One sweep runs at a time per
 * instance; instances may overlap, which the atomic claim makes harmless. The same round re-sends
 * session jobs ({@link Addresses#SESSION_JOBS}) left {@code pending} past the grace or whose lease
 * expired.
 */
public final class DispatcherVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(DispatcherVerticle.class);

  private final DispatchSettings settings;
  private final CloudTasksSettings cloudTasks;
  private ChatStore store;
  private Dispatch strategy;
  private long sweepTimer = -1;
  private boolean sweeping;

  public DispatcherVerticle(DispatchSettings settings, CloudTasksSettings cloudTasks) {
    this.settings = settings;
    this.cloudTasks = cloudTasks;
  }

  @Override
  public Future<?> start() {
    store = new ChatStoreClient(vertx);
    return Dispatch.create(vertx, settings, cloudTasks)
        .compose(created -> {
          strategy = created;
          MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(Addresses.DISPATCH, this::handleDispatch);
          return consumer.completion();
        })
        .onSuccess(v -> {
          sweepTimer = vertx.setPeriodic(settings.sweepIntervalMs(), t -> sweep());
          log.info("dispatcher started: mode={}, sweep every {} ms", settings.mode(), settings.sweepIntervalMs());
        });
  }

  @Override
  public Future<?> stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
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

  /** One recovery round; skipped while the previous one is still running. */
  private void sweep() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    Instant now = Instant.now();
    store
        .findStrandedReplies(now, now.minusMillis(settings.pendingGraceMs()), settings.sweepBatch())
        .compose(this::redispatch)
        .compose(v -> store.findStrandedSessionJobs(now, now.minusMillis(settings.pendingGraceMs()), settings.sweepBatch()))
        .map(this::resendSessionJobs)
        .onFailure(err -> log.warn("recovery sweep failed: {}", err.getMessage()))
        .onComplete(ar -> sweeping = false);
  }

  /** Session jobs left pending or whose worker died go back to the workers (their claim decides who runs them). */
  private Void resendSessionJobs(List<SessionJobRequest> jobs) {
    if (!jobs.isEmpty()) {
      log.info("recovery sweep re-sends {} stranded session jobs", jobs.size());
    }
    jobs.forEach(j -> vertx.eventBus().send(Addresses.SESSION_JOBS, j.toJson()));
    return null;
  }

  private Future<Void> redispatch(List<String> ids) {
    if (!ids.isEmpty()) {
      log.info("recovery sweep re-dispatches {} stranded replies", ids.size());
      Metrics.of(vertx).sweepRecoveries(ids.size());
    }
    List<Future<Void>> all =
        ids.stream()
            .map(id -> strategy
                .dispatch(id)
                .onFailure(err -> log.warn("re-dispatch of reply {} failed: {}", id, err.getMessage())))
            .toList();
    return Future.join(all).mapEmpty();
  }
}
