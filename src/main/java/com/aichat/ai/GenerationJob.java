package com.aichat.ai;

import com.aichat.ai.context.CompactionSettings;
import com.aichat.ai.context.ContextBuilder;
import com.aichat.ai.context.ContextBuilder.BuiltContext;
import com.aichat.ai.provider.ModelProvider;
import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelProvider.ModelCall;
import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelResult;
import com.aichat.ai.provider.ProviderException;
import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.SessionSummary;
import com.aichat.contract.ChatMessage.ContextInfo;
import com.aichat.contract.ChatMessage.ErrorInfo;
import com.aichat.contract.ChatMessage.Usage;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.GenerateRequest;
import com.aichat.contract.GenerationOutcome;
import com.aichat.logging.ReplyLog;
import com.aichat.metrics.Metrics;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Generations;
import com.aichat.persistence.Generations.ClaimResult;
import com.aichat.persistence.Generations.Completion;
import com.aichat.persistence.Generations.ReplyClaim;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generation job inside an {@link AiWorkerVerticle}, run on its event loop:
 * {@code claimGeneration → buildContext → streamReply → completeGeneration}, with retries, cancel and
 * lease loss handled in {@link #handleFailure}. Each attempt streams coalesced deltas (seq from 1,
 * offset = characters before the delta), checkpoints the partial text and renews the lease, and
 * serves the text so far on {@link Addresses#aiProgress}.
 *
 * <p>Deltas are throttled on the leading edge: text that arrives when no delta was published in the
 * last {@code worker.delta_interval_ms} (the first text of an attempt, or text after a pause) is
 * published at once; text that follows within the window is buffered and published when the window
 * closes, or at once when the buffer reaches {@code worker.delta_max_chars}. One one-shot timer per job
 * at most, and none while nothing is buffered.
 *
 * <p>An attempt may first wait for a provider connection ({@link ModelCall#onWire()}). The checkpoint
 * timer runs from before the request, so the lease is renewed while the job waits; the wait is logged
 * with the reply's id and counted by the worker ({@link #waitingForConnection()}).
 */
final class GenerationJob {

  private static final Logger log = LoggerFactory.getLogger(GenerationJob.class);

  /** A connection wait at least this long is logged at INFO. */
  private static final long SLOW_CONNECTION_WAIT_MS = 100;

  /** Why the worker stopped the job itself. */
  enum StopReason {
    /** The user cancelled: keep the partial text, end {@code cancelled}. */
    CANCEL,
    /** A checkpoint found another worker holds the lease: stop without writing. */
    LEASE_LOST,
    /** The worker is undeploying: give the reply back to {@code pending}. */
    SHUTDOWN
  }

  /**
   * What the job needs from its verticle; all of it is confined to the verticle's event loop. The
   * store's {@code Generations} runs the reply; {@code conversations} reads its question and session.
   */
  record Runtime(
      Vertx vertx,
      Generations store,
      Conversations conversations,
      ModelProvider provider,
      ContextBuilder contextBuilder,
      WorkerSettings settings,
      String systemPrompt,
      String workerId,
      BiFunction<String, String, Future<Boolean>> userSlot,
      Function<String, Future<Void>> summaryNeeded) {}

  private final Runtime rt;
  private final GenerateRequest request;
  private final String messageId;
  /** Every line of this job carries the reply's messageId, sessionId and attempt as fields. */
  private final ReplyLog rlog;
  private final Metrics metrics;

  private ChatMessage reply;
  private ChatMessage question;
  /** The history window before the question (newest first) and the session, as the claim returned them. */
  private java.util.List<ChatMessage> history;
  private ChatSession session;
  private BuiltContext context;
  private ModelRequest modelRequest;
  /** The input tokens counted before the request, and how ({@code estimate} or {@code api}). */
  private long estimatedInputTokens;
  private String tokenCounting;
  private StopReason stopReason;
  /** A continue's text so far (docs/versions.md): every attempt's deltas start after it; else "". */
  private String prefix = "";

  // state of the current attempt
  private ModelCall call;
  private final StringBuilder published = new StringBuilder();
  private final StringBuilder pending = new StringBuilder();
  private long seq;
  /** When the last delta was published (nanoTime); only meaningful once {@code seq > 0}. */
  private long lastFlushNs;
  /** The pending trailing flush, or -1. */
  private long flushTimer = -1;
  private final long deltaIntervalNs;
  private final int deltaMaxChars;
  private long checkpointTimer = -1;
  /** True from the provider request until its connection is acquired. */
  private boolean waitingForConnection;
  /** Time the last attempt waited for a provider connection. */
  private long connectionWaitMs;
  private boolean checkpointInFlight;
  private MessageConsumer<JsonObject> progressConsumer;
  private long retryTimer = -1;
  /** When the current attempt's provider request was made (nanoTime), 0 outside an attempt. */
  private long attemptStartNs;
  /** How long the last attempt took on the provider. */
  private long attemptNs;
  private boolean sawText;
  private Promise<Void> retryWait;
  /**
   * When the lease ends at the latest, by this JVM's clock: the send time of the last successful
   * claim or checkpoint plus {@code lease_ms} (the store counts from a later instant, so this is
   * never later than the store's {@code leaseUntil}). Past it another worker may own the reply.
   */
  private long leaseExpiresAtMs;

  GenerationJob(Runtime rt, GenerateRequest request) {
    this.rt = rt;
    this.request = request;
    this.messageId = request.messageId();
    this.rlog = new ReplyLog(log, messageId);
    this.metrics = Metrics.of(rt.vertx());
    this.deltaIntervalNs = rt.settings().deltaIntervalMs() * 1_000_000L;
    this.deltaMaxChars = rt.settings().deltaMaxChars();
  }

  /** True while the current attempt waits for a provider connection (not yet on the wire). */
  boolean waitingForConnection() {
    return waitingForConnection;
  }

  /** Runs the job to its end; never fails (unexpected errors end as outcome {@code retry}). */
  Future<GenerationOutcome> run() {
    return claimGeneration()
        .compose(claim -> claim.claimed() ? generate(claim) : notClaimed(claim.message()))
        .recover(this::handleUnexpected);
  }

  /** Stops the job: aborts the stream or the backoff wait. The first reason wins. */
  void requestStop(StopReason reason) {
    if (stopReason != null) {
      return;
    }
    stopReason = reason;
    rlog.info("reply {}: stop requested ({})", messageId, reason);
    if (call != null) {
      call.abort();
    }
    if (retryWait != null) {
      rt.vertx().cancelTimer(retryTimer);
      retryWait.tryComplete();
    }
  }

  // ---- pipeline steps --------------------------------------------------------------------------

  /**
   * The claim, with the question, the history window and the session in the same store request
   * ({@link ChatStore#claimReply}); the session id of the dispatch lets the store read them beside the
   * claim.
   */
  private Future<ReplyClaim> claimGeneration() {
    long sentAt = System.currentTimeMillis();
    return rt.store()
        .claimReply(messageId, request.sessionId(), rt.workerId(), rt.settings().leaseMs(),
            rt.contextBuilder().readLimit())
        .onSuccess(claim -> leaseExpiresAtMs = sentAt + rt.settings().leaseMs());
  }

  private Future<GenerationOutcome> generate(ReplyClaim claim) {
    ChatMessage claimed = claim.message();
    reply = claimed;
    question = claim.question();
    history = claim.history();
    session = claim.session();
    Integer continueOffset = claimed.revisions().continueOffset();
    String stored = claimed.content() == null ? "" : claimed.content();
    prefix = continueOffset == null ? "" : stored.substring(0, Math.min(stored.length(), Math.max(0, continueOffset)));
    rlog.with(claimed.sessionId(), claimed.attempts());
    rlog.info("reply {} claimed by {} (attempt {})", messageId, rt.workerId(), claimed.attempts());
    if (claimed.attempts() == 1 && claimed.createdAt() != null) {
      metrics.queueWait(Duration.between(claimed.createdAt(), Instant.now()));
    }
    return rt.userSlot().apply(messageId, claimed.userId())
        .compose(held -> held ? generateHeld() : releaseBusy());
  }

  /** The claimed reply's user has a generation slot for it: generate, unless stopped or out of attempts. */
  private Future<GenerationOutcome> generateHeld() {
    ChatMessage claimed = reply;
    if (stopReason != null) {
      return endStopped();
    }
    if (claimed.attemptsOfGeneration() > rt.settings().maxAttempts()) {
      // earlier attempts died with their workers; do not start one more
      return failGeneration(new ErrorInfo("generation_attempts_exhausted",
          "The AI reply could not be generated after " + rt.settings().maxAttempts() + " attempts."));
    }
    return buildContext()
        .compose(this::streamReply)
        .compose(this::completeGeneration)
        .recover(this::handleFailure);
  }

  /**
   * The context from what the claim returned. A retry in this process claims again, and with it reads
   * the context again (a summary may have been written meanwhile).
   */
  private Future<BuiltContext> buildContext() {
    long started = System.nanoTime();
    SessionSummary summary = rt.contextBuilder().compaction().enabled() && session != null ? session.summary() : null;
    return Future.succeededFuture(history)
        .map(h -> {
          context = prefilled(rt.contextBuilder().build(h, question.content(), summary));
          modelRequest = context.toRequest(rt.systemPrompt());
          rlog.debug("reply {}: context of {} turns ({} messages used, {} dropped, {} not in the summary v{}) built in {} µs",
              messageId, context.turns().size(), context.messagesUsed(), context.messagesDropped(),
              context.messagesDroppedUncovered(), context.summary() == null ? 0 : context.summary().version(),
              (System.nanoTime() - started) / 1000);
          return context;
        })
        .compose(ctx -> countInputTokens().map(ctx));
  }

  /**
   * The context record's input count: the estimate, or with {@code context.token_counting: api} the
   * provider's count, falling back to the estimate when the provider cannot count or the call fails.
   */
  private Future<Void> countInputTokens() {
    estimatedInputTokens = rt.contextBuilder().estimateInput(modelRequest);
    tokenCounting = CompactionSettings.ESTIMATE;
    if (!CompactionSettings.API.equals(rt.contextBuilder().compaction().tokenCounting())) {
      return Future.succeededFuture();
    }
    return rt.provider().countTokens(modelRequest)
        .map(n -> {
          if (n != null) {
            estimatedInputTokens = n;
            tokenCounting = CompactionSettings.API;
          }
          return (Void) null;
        })
        .recover(err -> {
          rlog.info("reply {}: token count failed ({}); the estimate is recorded", messageId, err.getMessage());
          return Future.succeededFuture();
        });
  }

  /**
   * A continue ends the request with the reply so far as the assistant's turn, which the Messages API
   * continues. Trailing whitespace is trimmed from that turn (the API refuses a final assistant turn
   * ending in whitespace); the stored text and the offsets keep it.
   */
  private BuiltContext prefilled(BuiltContext built) {
    String prefill = prefix.stripTrailing();
    if (prefill.isEmpty()) {
      return built;
    }
    java.util.List<ModelRequest.Turn> turns = new java.util.ArrayList<>(built.turns());
    turns.add(new ModelRequest.Turn(ModelRequest.Turn.ASSISTANT, prefill));
    return new BuiltContext(java.util.List.copyOf(turns), built.cacheBreakpoint(), built.messagesUsed(),
        built.messagesDropped(), built.summary(), built.summaryBlock(), built.messagesDroppedUncovered(),
        built.historyTokens(), built.needsSummary());
  }

  private Future<ModelResult> streamReply(BuiltContext ctx) {
    resetAttempt();
    progressConsumer = rt.vertx().eventBus().consumer(Addresses.aiProgress(messageId), this::answerProgress);
    return progressConsumer.completion()
        .compose(v -> {
          if (stopReason != null) {
            return Future.failedFuture(ProviderException.aborted());
          }
          // checkpoints (and so lease renewals) run while the request waits for a connection, too
          checkpointTimer = rt.vertx().setPeriodic(rt.settings().checkpointIntervalMs(), t -> checkpoint());
          waitingForConnection = true;
          attemptStartNs = System.nanoTime();
          call = rt.provider().stream(modelRequest, this::onText);
          call.onWire().onComplete(ar -> onWire(ar.succeeded() ? ar.result() : null));
          return call.result();
        })
        .andThen(ar -> {
          endAttempt();
          recordAttempt(ar.succeeded() ? "completed" : stopReason != null ? "stopped" : "error");
        });
  }

  /** Duration of the attempt that just ended, if it reached the provider. */
  private void recordAttempt(String outcome) {
    if (attemptStartNs != 0) {
      attemptNs = System.nanoTime() - attemptStartNs;
      metrics.generation(outcome, attemptNs);
      attemptStartNs = 0;
    }
  }

  private Future<GenerationOutcome> completeGeneration(ModelResult result) {
    Usage usage = result.usage() == null ? null : new Usage(result.usage().inputTokens(),
        result.usage().outputTokens(), result.cacheReadTokens(), result.cacheWriteTokens());
    Completion completion = new Completion(
        published.toString(), result.model(), usage, result.stopReason(), contextRecord(result));
    // the summary job is enqueued before the final write: a crash between the two leaves a pending job
    Future<Void> summaryJob = context.needsSummary() ? rt.summaryNeeded().apply(reply.sessionId()) : Future.succeededFuture();
    return summaryJob
        .compose(v -> rt.store().completeGeneration(messageId, rt.workerId(), completion))
        .map(m -> {
          recordCompletion(result);
          rlog.info("reply {} completed: {} chars in {} deltas, model {}, stop {}, waited {} ms for a provider connection",
              messageId, published.length(), seq, result.model(), result.stopReason(), connectionWaitMs);
          return outcome(GenerationOutcome.COMPLETED, m.status().wire(), null);
        });
  }

  /** The reply's context record (docs/context.md): what it was given and what its input cost. */
  private ContextInfo contextRecord(ModelResult result) {
    SessionSummary summary = context.summary();
    return new ContextInfo(
        context.messagesUsed(),
        context.messagesDropped(),
        summary == null ? null : summary.version(),
        summary == null ? 0 : (int) Math.min(Integer.MAX_VALUE, summary.messagesCovered()),
        context.messagesDroppedUncovered(),
        estimatedInputTokens,
        tokenCounting,
        result.usage() == null ? null : result.usage().inputTokens(),
        result.cacheReadTokens(),
        result.cacheWriteTokens());
  }

  private void recordCompletion(ModelResult result) {
    metrics.replyEnded(Metrics.COMPLETED);
    if (result.usage() != null) {
      long cached = result.cacheReadTokens() + result.cacheWriteTokens();
      metrics.tokens(Math.max(0, result.usage().inputTokens() - cached), result.usage().outputTokens(),
          result.cacheReadTokens(), result.cacheWriteTokens());
      metrics.tokensPerSecond(result.usage().outputTokens(), attemptNs);
    }
  }

  // ---- failures, retries, stops -----------------------------------------------------------------

  private Future<GenerationOutcome> handleFailure(Throwable err) {
    if (stopReason != null) {
      return endStopped();
    }
    if (err instanceof ProviderException pe) {
      metrics.providerError(pe.code());
      return pe.retryable() ? retryOrFail(pe) : failGeneration(pe.toErrorInfo());
    }
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (code == ErrorCode.CONFLICT || code == ErrorCode.NOT_FOUND) {
      rlog.info("reply {}: lease lost or reply gone ({}); another worker or the user owns it now", messageId, code);
      return Future.succeededFuture(outcome(GenerationOutcome.NOT_CLAIMED, null, null));
    }
    return handleUnexpected(err);
  }

  private Future<GenerationOutcome> retryOrFail(ProviderException pe) {
    int attempt = reply.attemptsOfGeneration();
    if (attempt >= rt.settings().maxAttempts()) {
      rlog.warn("reply {}: attempt {} failed ({}), no attempts left", messageId, attempt, pe.code());
      return failGeneration(new ErrorInfo(pe.code(),
          pe.getMessage() + " The reply could not be generated after " + attempt + " attempts."));
    }
    long delay = Backoff.delayMs(rt.settings(), attempt, pe.retryAfterMs());
    metrics.retry();
    rlog.info("reply {}: attempt {} failed ({}), next attempt in {} ms", messageId, attempt, pe.code(), delay);
    Future<ChatMessage> released = rt.store()
        .releaseForRetry(messageId, rt.workerId(), Instant.now().plusMillis(delay), pe.toErrorInfo());
    if (!request.retryInProcess()) {
      return released.map(m -> outcome(GenerationOutcome.RETRY, m.status().wire(), pe.toErrorInfo()));
    }
    return released
        .compose(m -> waitBeforeRetry(delay))
        .compose(v -> stopReason == null
            ? run()
            : Future.succeededFuture(outcome(GenerationOutcome.RETRY, "pending", pe.toErrorInfo())));
  }

  private Future<Void> waitBeforeRetry(long delayMs) {
    retryWait = Promise.promise();
    // a few ms past notBefore, so the store's clock agrees the reply may be claimed again
    retryTimer = rt.vertx().setTimer(delayMs + 5, t -> retryWait.tryComplete());
    return retryWait.future().andThen(ar -> retryWait = null);
  }

  private Future<GenerationOutcome> endStopped() {
    return switch (stopReason) {
      case CANCEL -> rt.store()
          .cancelGeneration(messageId, rt.workerId(), published.toString())
          .map(m -> {
            rlog.info("reply {} cancelled with {} chars kept", messageId, published.length());
            metrics.replyEnded(Metrics.CANCELLED);
            return outcome(GenerationOutcome.CANCELLED, m.status().wire(), null);
          })
          .recover(this::lostLease);
      case LEASE_LOST -> Future.succeededFuture(outcome(GenerationOutcome.NOT_CLAIMED, null, null));
      case SHUTDOWN -> rt.store()
          .releaseForRetry(messageId, rt.workerId(), null, null)
          .map(m -> outcome(GenerationOutcome.RETRY, m.status().wire(), null))
          .recover(this::lostLease);
    };
  }

  private Future<GenerationOutcome> releaseBusy() {
    rlog.info("reply {}: user {} is at the per-user cap; released to pending", messageId, reply.userId());
    return rt.store()
        .releaseForRetry(messageId, rt.workerId(), null, null)
        .map(m -> outcome(GenerationOutcome.BUSY, m.status().wire(), null))
        .recover(this::lostLease);
  }

  private Future<GenerationOutcome> failGeneration(ErrorInfo error) {
    return rt.store()
        .failGeneration(messageId, rt.workerId(), error)
        .map(m -> {
          if (m.status() == MessageStatus.COMPLETED) {
            // a continue: the reply is back to its text before it, with lastContinueError (docs/versions.md)
            rlog.warn("reply {}: continue failed for good ({}); the reply keeps its earlier text", messageId,
                error.code());
          } else {
            rlog.warn("reply {} failed for good: {}", messageId, error.code());
          }
          metrics.replyEnded(Metrics.FAILED);
          return outcome(GenerationOutcome.FAILED, m.status().wire(), error);
        })
        .recover(this::lostLease);
  }

  private Future<GenerationOutcome> lostLease(Throwable err) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (code == ErrorCode.CONFLICT || code == ErrorCode.NOT_FOUND) {
      rlog.info("reply {}: final write refused ({}); the lease is no longer ours", messageId, code);
      return Future.succeededFuture(outcome(GenerationOutcome.NOT_CLAIMED, null, null));
    }
    return handleUnexpected(err);
  }

  /** A store or bus failure: the lease will expire and the recovery sweep re-dispatches the reply. */
  private Future<GenerationOutcome> handleUnexpected(Throwable err) {
    rlog.warn("reply {}: job ended early, left for the recovery sweep: {}", messageId, err.toString());
    return Future.succeededFuture(outcome(GenerationOutcome.RETRY, null,
        new ErrorInfo("worker_error", "The reply will be retried.")));
  }

  private Future<GenerationOutcome> notClaimed(ChatMessage current) {
    String status = current == null ? null : current.status().wire();
    if (current != null) {
      rlog.with(current.sessionId(), current.attempts());
    }
    rlog.info("reply {} not claimed (status {})", messageId, status);
    return Future.succeededFuture(outcome(GenerationOutcome.NOT_CLAIMED, status, null));
  }

  private GenerationOutcome outcome(String kind, String status, ErrorInfo error) {
    return new GenerationOutcome(messageId, kind, status, error);
  }

  // ---- streaming: deltas, checkpoints, progress ---------------------------------------------------

  private void resetAttempt() {
    sawText = false;
    published.setLength(0);
    published.append(prefix);
    pending.setLength(0);
    seq = 0;
    connectionWaitMs = 0;
  }

  /** The request is on the wire ({@code waitedMs}), or the attempt ended before it was (null). */
  private void onWire(Long waitedMs) {
    waitingForConnection = false;
    if (waitedMs == null) {
      return;
    }
    connectionWaitMs = waitedMs;
    if (waitedMs >= SLOW_CONNECTION_WAIT_MS) {
      rlog.info("reply {}: waited {} ms for a provider connection (attempt {})", messageId, waitedMs, reply.attempts());
    } else {
      rlog.debug("reply {}: provider connection after {} ms", messageId, waitedMs);
    }
  }

  /**
   * Text from the provider: published at once when the coalescing window is open (nothing published
   * in the last interval, e.g. the first text) or the buffer reached its size limit; otherwise a
   * flush is scheduled for when the window closes.
   */
  private void onText(String text) {
    if (!sawText && attemptStartNs != 0) {
      sawText = true;
      metrics.firstToken(System.nanoTime() - attemptStartNs);
    }
    pending.append(text);
    boolean windowOpen = seq == 0 || System.nanoTime() - lastFlushNs >= deltaIntervalNs;
    if (pending.length() >= deltaMaxChars || (flushTimer == -1 && windowOpen)) {
      flushDelta();
    } else if (flushTimer == -1) {
      long waitMs = Math.max(1, (lastFlushNs + deltaIntervalNs - System.nanoTime() + 999_999) / 1_000_000);
      flushTimer = rt.vertx().setTimer(waitMs, t -> {
        flushTimer = -1;
        flushDelta();
      });
    }
  }

  /** True (and the job stops) when the lease ran out without a renewal: another worker may own it now. */
  private boolean leaseRanOut() {
    if (stopReason == null && System.currentTimeMillis() > leaseExpiresAtMs) {
      rlog.warn("reply {}: lease not renewed in time; stopping before another worker takes over", messageId);
      requestStop(StopReason.LEASE_LOST);
    }
    return stopReason == StopReason.LEASE_LOST;
  }

  /**
   * Publishes the text gathered since the last delta as one event; never after the lease was lost or
   * ran out unrenewed, when the reply (and its stream) may belong to another worker.
   */
  private void flushDelta() {
    if (flushTimer != -1) {
      rt.vertx().cancelTimer(flushTimer);
      flushTimer = -1;
    }
    if (pending.isEmpty() || leaseRanOut()) {
      return;
    }
    lastFlushNs = System.nanoTime();
    String text = pending.toString();
    pending.setLength(0);
    long offset = published.length();
    published.append(text);
    seq++;
    DeltaEvent delta = new DeltaEvent(reply.userId(), reply.sessionId(), messageId, seq, offset, text, reply.attempts());
    rt.vertx().eventBus().publish(Addresses.EVENTS_DELTA, delta.toJson());
  }

  /** Saves the text published so far and renews the lease; learns about cancels and lost leases. */
  private void checkpoint() {
    if (checkpointInFlight || stopReason != null || leaseRanOut()) {
      return;
    }
    flushDelta();
    checkpointInFlight = true;
    long sentAt = System.currentTimeMillis();
    rt.store()
        .checkpointGeneration(messageId, rt.workerId(), published.toString(), rt.settings().leaseMs())
        .onSuccess(r -> {
          if (r.leaseHeld()) {
            leaseExpiresAtMs = Math.max(leaseExpiresAtMs, sentAt + rt.settings().leaseMs());
          }
          if (!r.leaseHeld()) {
            requestStop(StopReason.LEASE_LOST);
          } else if (r.cancelRequested()) {
            requestStop(StopReason.CANCEL);
          }
        })
        .onFailure(err -> rlog.warn("reply {}: checkpoint failed: {}", messageId, err.getMessage()))
        .onComplete(ar -> checkpointInFlight = false);
  }

  private void answerProgress(Message<JsonObject> msg) {
    msg.reply(new JsonObject()
        .put("messageId", messageId)
        .put("seq", seq)
        .put("offset", 0)
        .put("text", published.toString())
        .put("attempt", reply.attempts()));
  }

  private void endAttempt() {
    rt.vertx().cancelTimer(checkpointTimer);
    waitingForConnection = false;
    flushDelta();
    call = null;
    if (progressConsumer != null) {
      progressConsumer.unregister();
      progressConsumer = null;
    }
  }
}
