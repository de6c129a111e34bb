package com.aichat.jobs;

import com.aichat.ai.provider.ProviderException;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.SessionJobKind;
import com.aichat.contract.SessionJobRequest;
import com.aichat.persistence.Jobs;
import com.aichat.persistence.Jobs.SessionJobClaim;
import com.aichat.persistence.Jobs.SessionJobEnd;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs session jobs inside a worker verticle, on its event loop: consumes
 * {@link Addresses#SESSION_JOBS} ({@link SessionJobRequest}) and, for each kind it has a
 * {@link SessionJobHandler} for, {@code claimSessionJob → handler attempt (lease renewed every third of
 * session_jobs.lease_ms) → completeSessionJob}. A failed attempt is given back with a backoff
 * ({@code releaseSessionJob}, capped exponential with full jitter, at least the provider's
 * {@code retry-after}) and retried here after it; a non-retryable error, or the last of
 * {@code session_jobs.max_attempts}, ends the job {@code failed}. A lost lease stops the attempt
 * without writing; stopping the runner gives running jobs back to {@code pending}.
 *
 * <p>Delivery is only a hint: a request for a job this instance already runs, or beyond
 * {@code session_jobs.max_concurrent}, or while the node drains, is dropped, and the dispatcher's
 * sweep delivers the job again later. The claim makes duplicate deliveries harmless.
 */
public final class SessionJobRunner {

  private static final Logger log = LoggerFactory.getLogger(SessionJobRunner.class);

  private final Vertx vertx;
  private final Jobs store;
  private final String workerId;
  private final SessionJobSettings settings;
  private final Map<SessionJobKind, SessionJobHandler> handlers;
  private final BooleanSupplier draining;
  private final Map<String, Job> running = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private boolean stopping;

  public SessionJobRunner(
      Vertx vertx,
      Jobs store,
      String workerId,
      SessionJobSettings settings,
      Map<SessionJobKind, SessionJobHandler> handlers,
      BooleanSupplier draining) {
    this.vertx = vertx;
    this.store = store;
    this.workerId = workerId;
    this.settings = settings;
    this.handlers = Map.copyOf(handlers);
    this.draining = draining;
  }

  /** Registers the consumer; completes once it is registered everywhere. */
  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(Addresses.SESSION_JOBS, this::onRequest);
    return consumer.completion();
  }

  /** Stops taking jobs and gives running ones back to {@code pending}; completes once they did. */
  public Future<Void> stop() {
    stopping = true;
    List<Future<Void>> ends = new ArrayList<>();
    for (Job job : List.copyOf(running.values())) {
      ends.add(job.stop());
    }
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return Future.join(unregistered, Future.join(ends)).<Void>mapEmpty().otherwiseEmpty();
  }

  /** Jobs running on this instance now. */
  public int running() {
    return running.size();
  }

  private void onRequest(Message<JsonObject> msg) {
    SessionJobRequest request = SessionJobRequest.fromJson(msg.body());
    if (request == null) {
      log.warn("session job request ignored: sessionId and a known kind are required");
      return;
    }
    SessionJobHandler handler = handlers.get(request.kind());
    String key = request.kind().wire() + ":" + request.sessionId();
    if (handler == null || stopping || draining.getAsBoolean() || running.containsKey(key)) {
      return;
    }
    if (running.size() >= settings.maxConcurrent()) {
      log.debug("session {}: {} job left for the sweep ({} jobs running)", request.sessionId(), request.kind().wire(),
          running.size());
      return;
    }
    Job job = new Job(request, handler);
    running.put(key, job);
    job.run().onComplete(ar -> running.remove(key));
  }

  /** Capped exponential backoff with full jitter, never below the provider's {@code retry-after}. */
  long backoffMs(int failedAttempt, long retryAfterMs) {
    int shift = Math.max(0, Math.min(30, failedAttempt - 1));
    long cap = Math.min(settings.backoffMaxMs(), settings.backoffInitialMs() << shift);
    return Math.max(ThreadLocalRandom.current().nextLong(cap + 1), retryAfterMs);
  }

  /** Why a job stopped before its attempt ended. */
  private enum Stop { LEASE_LOST, SHUTDOWN }

  /** One job on this instance: claim, attempts with retries, the final write. */
  private final class Job {

    private final SessionJobRequest request;
    private final SessionJobHandler handler;
    private final String sessionId;
    private final SessionJobKind kind;
    private SessionJobHandler.Attempt attempt;
    private long renewTimer = -1;
    private long retryTimer = -1;
    private Promise<Void> retryWait;
    private Stop stop;
    /** The end of the lease by this JVM's clock (send time of the last claim or renewal + lease). */
    private long leaseExpiresAtMs;
    private Promise<Void> stopped;

    Job(SessionJobRequest request, SessionJobHandler handler) {
      this.request = request;
      this.handler = handler;
      this.sessionId = request.sessionId();
      this.kind = request.kind();
    }

    /** Runs to the end; never fails. */
    Future<Void> run() {
      long sentAt = System.currentTimeMillis();
      return store.claimSessionJob(sessionId, kind, workerId, settings.leaseMs())
          .compose(claim -> {
            if (!claim.claimed()) {
              log.debug("session {}: {} job not claimed ({})", sessionId, kind.wire(),
                  claim.job() == null ? "none" : claim.job().status());
              return Future.<Void>succeededFuture();
            }
            leaseExpiresAtMs = sentAt + settings.leaseMs();
            return attempt(claim);
          })
          .recover(this::unexpected)
          .andThen(ar -> {
            if (stopped != null) {
              stopped.tryComplete();
            }
          });
    }

    /** Stops the job: the attempt or the backoff wait ends, and the job goes back to pending. */
    Future<Void> stop() {
      stopped = Promise.promise();
      requestStop(Stop.SHUTDOWN);
      return stopped.future();
    }

    private void requestStop(Stop reason) {
      if (stop != null) {
        return;
      }
      stop = reason;
      if (attempt != null) {
        attempt.abort();
      }
      if (retryWait != null) {
        vertx.cancelTimer(retryTimer);
        retryWait.tryComplete();
      }
    }

    private Future<Void> attempt(SessionJobClaim claim) {
      int attempts = claim.job().attempts();
      log.info("session {}: {} job claimed by {} (attempt {})", sessionId, kind.wire(), workerId, attempts);
      if (stop != null) {
        return endStopped();
      }
      if (attempts > settings.maxAttempts()) {
        // earlier attempts died with their workers; do not start one more
        return fail(new ErrorInfo("session_job_attempts_exhausted",
            "The " + kind.wire() + " job did not finish in " + settings.maxAttempts() + " attempts."), attempts);
      }
      renewTimer = vertx.setPeriodic(settings.renewIntervalMs(), t -> renew());
      attempt = handler.start(claim.session(), claim.job());
      return attempt.result()
          .andThen(ar -> {
            vertx.cancelTimer(renewTimer);
            attempt = null;
          })
          .compose(result -> stop != null ? endStopped() : complete(result), err -> failed(err, attempts));
    }

    private Future<Void> complete(JsonObject result) {
      return store.completeSessionJob(sessionId, kind, workerId, result)
          .map(SessionJobEnd::applied)
          .onSuccess(applied -> log.info("session {}: {} job {}", sessionId, kind.wire(),
              applied ? "completed" : "skipped (its result no longer applies)"))
          .<Void>mapEmpty()
          .recover(this::lostLease);
    }

    private Future<Void> failed(Throwable err, int attempts) {
      if (stop != null) {
        return endStopped();
      }
      ProviderException pe = err instanceof ProviderException p ? p : null;
      ErrorInfo error = pe != null
          ? pe.toErrorInfo()
          : new ErrorInfo("session_job_error", "The " + kind.wire() + " job failed: " + err.getMessage());
      if (pe != null && !pe.retryable()) {
        return fail(error, attempts);
      }
      if (attempts >= settings.maxAttempts()) {
        log.warn("session {}: {} job attempt {} failed ({}), no attempts left", sessionId, kind.wire(), attempts,
            error.code());
        return fail(error, attempts);
      }
      long delay = backoffMs(attempts, pe == null ? -1 : pe.retryAfterMs());
      log.info("session {}: {} job attempt {} failed ({}), next attempt in {} ms", sessionId, kind.wire(), attempts,
          error.code(), delay);
      return store.releaseSessionJob(sessionId, kind, workerId, Instant.now().plusMillis(delay), error)
          .compose(v -> waitBeforeRetry(delay))
          .compose(v -> stop == null ? run() : Future.<Void>succeededFuture())
          .recover(this::lostLease);
    }

    private Future<Void> waitBeforeRetry(long delayMs) {
      retryWait = Promise.promise();
      // a few ms past dueAt, so the store's clock agrees the job may be claimed again
      retryTimer = vertx.setTimer(delayMs + 5, t -> retryWait.tryComplete());
      return retryWait.future().andThen(ar -> retryWait = null);
    }

    private Future<Void> fail(ErrorInfo error, int attempts) {
      return store.failSessionJob(sessionId, kind, workerId, error)
          .onSuccess(v -> log.warn("session {}: {} job gave up after attempt {}: {}", sessionId, kind.wire(), attempts,
              error.code()))
          .recover(this::lostLease);
    }

    private Future<Void> endStopped() {
      if (stop == Stop.LEASE_LOST) {
        log.info("session {}: {} job stopped, its lease is lost", sessionId, kind.wire());
        return Future.succeededFuture();
      }
      return store.releaseSessionJob(sessionId, kind, workerId, null, null)
          .onSuccess(v -> log.info("session {}: {} job given back (worker stopping)", sessionId, kind.wire()))
          .recover(this::lostLease);
    }

    private void renew() {
      if (stop != null) {
        return;
      }
      if (System.currentTimeMillis() > leaseExpiresAtMs) {
        log.warn("session {}: {} job lease not renewed in time; stopping", sessionId, kind.wire());
        requestStop(Stop.LEASE_LOST);
        return;
      }
      long sentAt = System.currentTimeMillis();
      store.renewSessionJob(sessionId, kind, workerId, settings.leaseMs())
          .onSuccess(held -> {
            if (held) {
              leaseExpiresAtMs = Math.max(leaseExpiresAtMs, sentAt + settings.leaseMs());
            } else {
              requestStop(Stop.LEASE_LOST);
            }
          })
          .onFailure(err -> log.warn("session {}: {} job lease renewal failed: {}", sessionId, kind.wire(),
              err.getMessage()));
    }

    private Future<Void> lostLease(Throwable err) {
      ErrorCode code = ErrorCode.fromThrowable(err);
      if (code == ErrorCode.CONFLICT || code == ErrorCode.NOT_FOUND) {
        log.info("session {}: {} job write refused ({}); another worker owns it or the session is gone", sessionId,
            kind.wire(), code);
        return Future.succeededFuture();
      }
      return unexpected(err);
    }

    /** A store or bus failure: the lease expires and the sweep delivers the job again. */
    private Future<Void> unexpected(Throwable err) {
      log.warn("session {}: {} job ended early, left for the sweep: {}", sessionId, kind.wire(), err.toString());
      return Future.succeededFuture();
    }
  }
}
