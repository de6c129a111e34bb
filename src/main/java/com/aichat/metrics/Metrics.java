package com.aichat.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The service's domain metrics, in one place: every meter name and label, and the small API the
 * verticles record through. There is one instance per Vert.x instance (one per node), over the
 * node's {@link PrometheusMeterRegistry}, which Vert.x's own HTTP, event-bus and pool meters share when
 * {@code Main} created the Vert.x instance. Meters are thread-safe, so Netty threads (the gateway) and
 * event loops record alike.
 *
 * <p>Names follow the Prometheus conventions: the {@code aichat_} prefix, base units (seconds),
 * {@code _total} for counters. Labels take a few fixed values only; they never carry a user, session or
 * message id. The Prometheus names (as scraped):
 *
 * <ul>
 *   <li>{@code aichat_replies_total{outcome}}: replies that reached a final state on this node's workers
 *       ({@code completed}, {@code failed}, {@code cancelled});
 *   <li>{@code aichat_reply_queue_wait_seconds} (histogram): from the send to the first claim;
 *   <li>{@code aichat_reply_first_token_seconds} (histogram): from the provider request to its first text;
 *   <li>{@code aichat_generation_duration_seconds{outcome}} (histogram): one attempt, from the provider
 *       request to its end ({@code completed}, {@code error}, {@code stopped});
 *   <li>{@code aichat_generation_tokens_per_second} (histogram): output tokens per second of a completed attempt;
 *   <li>{@code aichat_tokens_total{kind}}: {@code input}, {@code output}, {@code cache_read}, {@code cache_write};
 *   <li>{@code aichat_provider_errors_total{code}}: provider failures by the reply's error code;
 *   <li>{@code aichat_reply_retries_total}: attempts that failed and were scheduled again;
 *   <li>{@code aichat_sweep_recoveries_total}: stranded replies the recovery sweep dispatched again;
 *   <li>{@code aichat_replies_pending} (gauge): replies waiting in this node's dispatcher queue;
 *   <li>{@code aichat_streams_active} (gauge): generations this node's workers hold;
 *   <li>{@code aichat_sockets_connected} (gauge): authenticated sockets on this node's gateway;
 *   <li>{@code aichat_socket_joins_total}, {@code aichat_socket_resumes_total} (joins that picked up a
 *       reply mid-stream), {@code aichat_socket_slow_disconnects_total};
 *   <li>{@code aichat_requests_refused_total{reason}}: {@code rate_limited}, {@code quota_exceeded},
 *       {@code overloaded}, {@code draining}.
 * </ul>
 */
public final class Metrics {

  public static final String REPLIES = "aichat.replies";
  public static final String QUEUE_WAIT = "aichat.reply.queue.wait";
  public static final String FIRST_TOKEN = "aichat.reply.first.token";
  public static final String GENERATION_DURATION = "aichat.generation.duration";
  public static final String TOKENS_PER_SECOND = "aichat.generation.tokens.per.second";
  public static final String TOKENS = "aichat.tokens";
  public static final String PROVIDER_ERRORS = "aichat.provider.errors";
  public static final String RETRIES = "aichat.reply.retries";
  public static final String SWEEP_RECOVERIES = "aichat.sweep.recoveries";
  public static final String REPLIES_PENDING = "aichat.replies.pending";
  public static final String STREAMS_ACTIVE = "aichat.streams.active";
  public static final String SOCKETS_CONNECTED = "aichat.sockets.connected";
  public static final String SOCKET_JOINS = "aichat.socket.joins";
  public static final String SOCKET_RESUMES = "aichat.socket.resumes";
  public static final String SOCKET_SLOW_DISCONNECTS = "aichat.socket.slow.disconnects";
  public static final String REQUESTS_REFUSED = "aichat.requests.refused";
  public static final String LIMIT_FALLBACKS = "aichat.limits.fallbacks";

  /** Values of the {@code outcome} label of {@link #REPLIES}. */
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";

  private static final Map<Vertx, Metrics> BY_VERTX = new ConcurrentHashMap<>();

  private final PrometheusMeterRegistry registry;
  private final Timer queueWait;
  private final Timer firstToken;
  private final DistributionSummary tokensPerSecond;
  private final Counter retries;
  private final Counter sweepRecoveries;
  private final Counter joins;
  private final Counter resumes;
  private final Counter slowDisconnects;
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong streams = new AtomicLong();
  private final AtomicLong sockets = new AtomicLong();

  Metrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    queueWait = Timer.builder(QUEUE_WAIT)
        .description("Time from the send to the first claim of the reply by a worker")
        .serviceLevelObjectives(seconds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        .register(registry);
    firstToken = Timer.builder(FIRST_TOKEN)
        .description("Time from the provider request to the first text of the reply")
        .serviceLevelObjectives(seconds(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
        .register(registry);
    tokensPerSecond = DistributionSummary.builder(TOKENS_PER_SECOND)
        .description("Output tokens per second of a completed generation attempt")
        .serviceLevelObjectives(1, 5, 10, 20, 50, 100, 200, 500, 1000)
        .register(registry);
    retries = Counter.builder(RETRIES).description("Generation attempts that failed and were scheduled again")
        .register(registry);
    sweepRecoveries = Counter.builder(SWEEP_RECOVERIES)
        .description("Stranded replies the recovery sweep dispatched again").register(registry);
    joins = Counter.builder(SOCKET_JOINS).description("Acknowledged session joins").register(registry);
    resumes = Counter.builder(SOCKET_RESUMES)
        .description("Session joins that picked up a reply in the middle of its stream").register(registry);
    slowDisconnects = Counter.builder(SOCKET_SLOW_DISCONNECTS)
        .description("Sockets disconnected because they could not keep up with their events").register(registry);
    Gauge.builder(REPLIES_PENDING, pending, AtomicLong::get)
        .description("Replies waiting in this node's dispatcher queue").register(registry);
    Gauge.builder(STREAMS_ACTIVE, streams, AtomicLong::get)
        .description("Generations held by this node's workers").register(registry);
    Gauge.builder(SOCKETS_CONNECTED, sockets, AtomicLong::get)
        .description("Authenticated sockets on this node's gateway").register(registry);
    for (String outcome : new String[] {COMPLETED, FAILED, CANCELLED}) {
      Counter.builder(REPLIES).tag("outcome", outcome).description("Replies that reached a final state")
          .register(registry);
    }
    for (String kind : new String[] {"input", "output", "cache_read", "cache_write"}) {
      Counter.builder(TOKENS).tag("kind", kind).description("Model tokens used, by kind").register(registry);
    }
  }

  /**
   * Binds {@code registry} to {@code vertx} (Main does this right after it creates the Vert.x instance
   * with the same registry for Vert.x's own meters). Call before any verticle records.
   */
  public static Metrics install(Vertx vertx, PrometheusMeterRegistry registry) {
    Metrics m = new Metrics(registry);
    if (BY_VERTX.putIfAbsent(vertx, m) == null && vertx instanceof VertxInternal internal) {
      internal.addCloseHook(completion -> {
        BY_VERTX.remove(vertx);
        completion.succeed();
      });
    }
    return BY_VERTX.get(vertx);
  }

  /** The metrics of {@code vertx}'s node; a fresh registry if Main did not install one (tests). */
  public static Metrics of(Vertx vertx) {
    Metrics m = BY_VERTX.get(vertx);
    return m != null ? m : install(vertx, newRegistry());
  }

  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public MeterRegistry meters() {
    return registry;
  }

  /** The Prometheus text exposition of every meter of this node. */
  public String scrape() {
    return registry.scrape();
  }

  // ---- generation ---------------------------------------------------------------------------------

  /** A reply reached a final state ({@link #COMPLETED}, {@link #FAILED} or {@link #CANCELLED}). */
  public void replyEnded(String outcome) {
    registry.counter(REPLIES, "outcome", outcome).increment();
  }

  public void queueWait(Duration wait) {
    queueWait.record(wait.isNegative() ? Duration.ZERO : wait);
  }

  public void firstToken(long nanos) {
    firstToken.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** One attempt on the provider ended: {@code completed}, {@code error} or {@code stopped}. */
  public void generation(String outcome, long nanos) {
    Timer.builder(GENERATION_DURATION)
        .description("One generation attempt, from the provider request to its end")
        .tag("outcome", outcome)
        .serviceLevelObjectives(seconds(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600))
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Output tokens per second of a completed attempt that streamed for {@code nanos}. */
  public void tokensPerSecond(long outputTokens, long nanos) {
    if (nanos > 0 && outputTokens > 0) {
      tokensPerSecond.record(outputTokens / (nanos / 1e9));
    }
  }

  public void tokens(long input, long output, long cacheRead, long cacheWrite) {
    registry.counter(TOKENS, "kind", "input").increment(input);
    registry.counter(TOKENS, "kind", "output").increment(output);
    registry.counter(TOKENS, "kind", "cache_read").increment(cacheRead);
    registry.counter(TOKENS, "kind", "cache_write").increment(cacheWrite);
  }

  /** A provider failure; {@code code} is one of the reply error codes (e.g. {@code provider_timeout}). */
  public void providerError(String code) {
    registry.counter(PROVIDER_ERRORS, "code", code == null ? "unknown" : code).increment();
  }

  public void retry() {
    retries.increment();
  }

  public void sweepRecoveries(int count) {
    sweepRecoveries.increment(count);
  }

  /** Adds {@code delta} (may be negative) to the pending-replies gauge. */
  public void pending(long delta) {
    pending.addAndGet(delta);
  }

  public void streamStarted() {
    streams.incrementAndGet();
  }

  public void streamEnded() {
    streams.decrementAndGet();
  }

  // ---- gateway --------------------------------------------------------------------------------------

  public void socketConnected() {
    sockets.incrementAndGet();
  }

  public void socketGone() {
    sockets.decrementAndGet();
  }

  public void join() {
    joins.increment();
  }

  public void resume() {
    resumes.increment();
  }

  public void slowDisconnect() {
    slowDisconnects.increment();
  }

  // ---- API ------------------------------------------------------------------------------------------

  /** A request refused for capacity or fairness: {@code reason} is the lower-cased error code. */
  public void refused(String reason) {
    registry.counter(REQUESTS_REFUSED, "reason", reason).increment();
  }

  /**
   * A cluster-wide limit check ({@code limit} = {@code rate} or {@code generation}) that failed or timed
   * out, so the node-local count decided alone.
   */
  public void limitFallback(String limit) {
    registry.counter(LIMIT_FALLBACKS, "limit", limit).increment();
  }

  private static Duration[] seconds(double... s) {
    Duration[] out = new Duration[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = Duration.ofNanos((long) (s[i] * 1e9));
    }
    return out;
  }
}
