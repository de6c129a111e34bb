package com.aichat.ai;

import com.aichat.ai.context.CompactionSettings;
import com.aichat.config.ConfigReader;

/**
 * {@code worker.*} and {@code context.*}.
 *
 * <p>Capacity. A generation is a long, mostly idle HTTP stream, so the limits are sized from memory,
 * not from cores. {@code worker.max_concurrent_per_node} (default 0 = derived) is the node's budget:
 * when 0 it is {@code floor(max heap × }{@value #HEAP_SHARE_PERCENT}{@code % / worker.stream_heap_kb)},
 * at least {@value #MIN_AUTO_NODE}, at most {@value #MAX_AUTO_NODE} and at most half the process's
 * file-descriptor limit (each stream holds a provider connection and usually a client socket). The
 * budget is split evenly across the {@code verticles.worker} instances, rounded up.
 *
 * @param maxConcurrent {@code worker.max_concurrent} (default 0 = {@code max_concurrent_per_node /
 *     verticles.worker}, rounded up): generations at once per worker instance; when set it overrides
 *     the split
 * @param maxConcurrentPerNode {@code worker.max_concurrent_per_node} (default 0 = derived from the
 *     heap, see above): generations at once on this node; resolved, so never 0 here
 * @param streamHeapKb {@code worker.stream_heap_kb} (default 64): heap budgeted per active stream when
 *     the node limit is derived (measured: see docs/benchmarks.md)
 * @param maxPerUser {@code worker.max_per_user} (default 2): generations at once per user on one
 *     worker instance; excess jobs stay pending until a slot frees
 * @param leaseMs {@code worker.lease_ms} (default 30000): claim lease; renewed at every checkpoint
 * @param checkpointIntervalMs {@code worker.checkpoint_interval_ms} (default 1000): partial text saved
 *     this often
 * @param deltaIntervalMs {@code worker.delta_interval_ms} (default 50): after a delta is published,
 *     further text is coalesced for this long before the next one; the first text of an attempt, and
 *     text arriving after a quiet spell of at least this long, is published at once (leading edge)
 * @param deltaMaxChars {@code worker.delta_max_chars} (default 1024): buffered text that reaches this
 *     many characters is published at once, without waiting for the coalescing window
 * @param maxAttempts {@code worker.max_attempts} (default 4): provider attempts before {@code ai_error}
 * @param backoffInitialMs {@code worker.backoff_initial_ms} (default 500)
 * @param backoffMaxMs {@code worker.backoff_max_ms} (default 30000)
 * @param maxTurns {@code context.max_turns} (default 40): history messages at most
 * @param tokenBudget {@code context.token_budget} (default 12000): estimated history tokens at most
 * @param charsPerToken {@code context.chars_per_token} (default 4): the token estimate is
 *     {@code ceil(chars / chars_per_token)}
 * @param compaction {@code context.token_counting} and {@code context.compaction.*}
 */
public record WorkerSettings(
    int maxConcurrent,
    int maxConcurrentPerNode,
    int streamHeapKb,
    int maxPerUser,
    long leaseMs,
    long checkpointIntervalMs,
    long deltaIntervalMs,
    int deltaMaxChars,
    int maxAttempts,
    long backoffInitialMs,
    long backoffMaxMs,
    int maxTurns,
    int tokenBudget,
    int charsPerToken,
    CompactionSettings compaction) {

  /** Without compaction (the plain window). */
  public WorkerSettings(int maxConcurrent, int maxConcurrentPerNode, int streamHeapKb, int maxPerUser, long leaseMs,
      long checkpointIntervalMs, long deltaIntervalMs, int deltaMaxChars, int maxAttempts, long backoffInitialMs,
      long backoffMaxMs, int maxTurns, int tokenBudget, int charsPerToken) {
    this(maxConcurrent, maxConcurrentPerNode, streamHeapKb, maxPerUser, leaseMs, checkpointIntervalMs,
        deltaIntervalMs, deltaMaxChars, maxAttempts, backoffInitialMs, backoffMaxMs, maxTurns, tokenBudget,
        charsPerToken, CompactionSettings.DISABLED);
  }

  /** Share of the max heap that the derived node limit budgets for active streams. */
  public static final int HEAP_SHARE_PERCENT = 25;

  /** The derived node limit is never below this (tiny heaps)... */
  public static final int MIN_AUTO_NODE = 16;

  /** ...and never above this (it is a default, not a promise: set the key to go higher). */
  public static final int MAX_AUTO_NODE = 10_000;

  /**
   * Reads the sections; the node limit is derived from this JVM's max heap and file-descriptor limit
   * when not configured.
   */
  public static WorkerSettings from(ConfigReader w, ConfigReader c, int workerInstances) {
    return from(w, c, workerInstances, Runtime.getRuntime().maxMemory(), maxFileDescriptors());
  }

  /**
   * Reads the sections with the machine's figures given ({@code maxFds} -1 when unknown), so the
   * derivation can be checked at its edges.
   */
  public static WorkerSettings from(ConfigReader w, ConfigReader c, int workerInstances, long maxHeapBytes,
      long maxFds) {
    long lease = w.longValue("lease_ms", 30_000, 1000, 3_600_000);
    long checkpoint = w.longValue("checkpoint_interval_ms", 1000, 50, 600_000);
    if (checkpoint * 2 > lease) {
      throw w.error("checkpoint_interval_ms", "must be at most half of worker.lease_ms (" + lease + ")");
    }
    long initial = w.longValue("backoff_initial_ms", 500, 1, 600_000);
    long max = w.longValue("backoff_max_ms", 30_000, 1, 3_600_000);
    if (max < initial) {
      throw w.error("backoff_max_ms", "must be at least worker.backoff_initial_ms (" + initial + ")");
    }
    int streamHeapKb = w.intValue("stream_heap_kb", 64, 1, 1 << 20);
    int perNode = w.intValue("max_concurrent_per_node", 0, 0, 100_000);
    if (perNode == 0) {
      perNode = autoNodeLimit(maxHeapBytes, streamHeapKb, maxFds);
    }
    int instances = Math.max(1, workerInstances);
    int perInstance = w.intValue("max_concurrent", 0, 0, 100_000);
    if (perInstance == 0) {
      perInstance = Math.max(1, (perNode + instances - 1) / instances);
    }
    int tokenBudget = c.intValue("token_budget", 12_000, 100, 10_000_000);
    return new WorkerSettings(
        perInstance,
        perNode,
        streamHeapKb,
        w.intValue("max_per_user", 2, 1, 10_000),
        lease,
        checkpoint,
        w.longValue("delta_interval_ms", 50, 1, 10_000),
        w.intValue("delta_max_chars", 1024, 1, 10_000_000),
        w.intValue("max_attempts", 4, 1, 100),
        initial,
        max,
        c.intValue("max_turns", 40, 1, 10_000),
        tokenBudget,
        c.intValue("chars_per_token", 4, 1, 100),
        CompactionSettings.from(c, tokenBudget));
  }

  /**
   * The derived node limit: {@value #HEAP_SHARE_PERCENT}% of {@code maxHeapBytes} divided by the
   * per-stream budget, clamped to [{@value #MIN_AUTO_NODE}, {@value #MAX_AUTO_NODE}] and to half of
   * {@code maxFds} when known.
   */
  public static int autoNodeLimit(long maxHeapBytes, int streamHeapKb, long maxFds) {
    long byHeap = maxHeapBytes * HEAP_SHARE_PERCENT / 100 / (streamHeapKb * 1024L);
    long limit = Math.min(MAX_AUTO_NODE, byHeap);
    if (maxFds > 0) {
      limit = Math.min(limit, maxFds / 2);
    }
    return (int) Math.max(MIN_AUTO_NODE, limit);
  }

  /** The process's file-descriptor limit where the JVM reports it (Unix), else -1. */
  static long maxFileDescriptors() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount() : -1;
  }
}
