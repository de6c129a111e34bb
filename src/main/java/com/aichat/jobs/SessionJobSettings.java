package com.aichat.jobs;

import com.aichat.config.ConfigReader;

/**
 * {@code session_jobs.*}: how workers run session jobs (titles, and other kinds), whatever their kind.
 *
 * @param leaseMs {@code session_jobs.lease_ms} (default 30000, 1000–3,600,000): a claim's lease; the
 *     runner renews it every third of it while the job runs. A job whose worker died is taken over
 *     once it expires (by the dispatcher's sweep, every {@code dispatch.sweep_interval_ms})
 * @param maxAttempts {@code session_jobs.max_attempts} (default 3, 1–100): attempts before a job
 *     gives up as {@code failed}, leaving the session as it was
 * @param backoffInitialMs {@code session_jobs.backoff_initial_ms} (default 1000, 1–600,000): the
 *     first retry waits a random time up to this (full jitter), doubling per attempt...
 * @param backoffMaxMs {@code session_jobs.backoff_max_ms} (default 30000, at least
 *     {@code backoff_initial_ms}, at most 3,600,000): ...up to this; never less than a provider's
 *     {@code retry-after}
 * @param maxConcurrent {@code session_jobs.max_concurrent} (default 8, 1–10,000): jobs one worker
 *     instance runs at once; a job delivered beyond it is left pending for the sweep
 */
public record SessionJobSettings(
    long leaseMs, int maxAttempts, long backoffInitialMs, long backoffMaxMs, int maxConcurrent) {

  public static SessionJobSettings from(ConfigReader r) {
    long initial = r.longValue("backoff_initial_ms", 1000, 1, 600_000);
    long max = r.longValue("backoff_max_ms", 30_000, 1, 3_600_000);
    if (max < initial) {
      throw r.error("backoff_max_ms", "must be at least session_jobs.backoff_initial_ms (" + initial + ")");
    }
    return new SessionJobSettings(
        r.longValue("lease_ms", 30_000, 1000, 3_600_000),
        r.intValue("max_attempts", 3, 1, 100),
        initial,
        max,
        r.intValue("max_concurrent", 8, 1, 10_000));
  }

  /** How often a running job renews its lease: a third of it. */
  public long renewIntervalMs() {
    return Math.max(100, leaseMs / 3);
  }
}
