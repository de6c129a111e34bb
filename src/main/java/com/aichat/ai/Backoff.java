package com.aichat.ai;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with full jitter: before attempt {@code n + 1} the worker waits a random
 * time in {@code [0, min(backoff_max_ms, backoff_initial_ms * 2^(n-1))]}, but never less than the
 * provider's {@code retry-after}.
 */
final class Backoff {

  private Backoff() {}

  /**
   * @param failedAttempt the attempt that just failed, from 1
   * @param retryAfterMs the provider's {@code retry-after}, or -1
   */
  static long delayMs(WorkerSettings settings, int failedAttempt, long retryAfterMs) {
    int shift = Math.max(0, Math.min(30, failedAttempt - 1));
    long cap = Math.min(settings.backoffMaxMs(), settings.backoffInitialMs() << shift);
    long jittered = ThreadLocalRandom.current().nextLong(cap + 1);
    return Math.max(jittered, retryAfterMs);
  }
}
