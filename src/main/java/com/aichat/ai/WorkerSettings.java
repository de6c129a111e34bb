package com.aichat.ai;

import com.aichat.config.ConfigReader;

/**
 * {@code worker.*} and {@code context.*}.
 *
 * @param maxConcurrent {@code worker.max_concurrent} (default 8): generations at once per worker
 *     instance
 * @param maxPerUser {@code worker.max_per_user} (default 2): generations at once per user on one
 *     worker instance; excess jobs stay pending until a slot frees
 * @param leaseMs {@code worker.lease_ms} (default 30000): claim lease; renewed at every checkpoint
 * @param checkpointIntervalMs {@code worker.checkpoint_interval_ms} (default 1000): partial text saved
 *     this often
 * @param deltaIntervalMs {@code worker.delta_interval_ms} (default 50): deltas coalesced over this
 *     window before one bus event
 * @param maxAttempts {@code worker.max_attempts} (default 4): provider attempts before {@code ai_error}
 * @param backoffInitialMs {@code worker.backoff_initial_ms} (default 500)
 * @param backoffMaxMs {@code worker.backoff_max_ms} (default 30000)
 * @param maxTurns {@code context.max_turns} (default 40): history messages at most
 * @param tokenBudget {@code context.token_budget} (default 12000): estimated history tokens at most
 * @param charsPerToken {@code context.chars_per_token} (default 4): the token estimate is
 *     {@code ceil(chars / chars_per_token)}
 */
public record WorkerSettings(
    int maxConcurrent,
    int maxPerUser,
    long leaseMs,
    long checkpointIntervalMs,
    long deltaIntervalMs,
    int maxAttempts,
    long backoffInitialMs,
    long backoffMaxMs,
    int maxTurns,
    int tokenBudget,
    int charsPerToken) {

  public static WorkerSettings from(ConfigReader w, ConfigReader c) {
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
    return new WorkerSettings(
        w.intValue("max_concurrent", 8, 1, 10_000),
        w.intValue("max_per_user", 2, 1, 10_000),
        lease,
        checkpoint,
        w.longValue("delta_interval_ms", 50, 1, 10_000),
        w.intValue("max_attempts", 4, 1, 100),
        initial,
        max,
        c.intValue("max_turns", 40, 1, 10_000),
        c.intValue("token_budget", 12_000, 100, 10_000_000),
        c.intValue("chars_per_token", 4, 1, 100));
  }
}
