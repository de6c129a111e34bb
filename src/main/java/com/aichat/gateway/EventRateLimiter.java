package com.aichat.gateway;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * A token bucket per socket for the events a client sends ({@code join}, {@code leave}): up to
 * {@code gateway.event_burst} at once, then {@code gateway.event_rate_per_sec}. An event over the
 * limit is not served; once {@code gateway.max_rejected_events} have been refused in a row, with none
 * served between them, the socket counts as abusive and is to be disconnected. Runs on the gateway
 * verticle's context (no locking); {@link #forget} when the socket is gone.
 */
final class EventRateLimiter {

  /** What to do with one event. */
  enum Verdict { SERVE, REFUSE, DISCONNECT }

  private static final class Bucket {
    double tokens;
    long refilledAt;
    int refusedInARow;
  }

  private final double ratePerNano;
  private final int burst;
  private final int maxRejected;
  private final LongSupplier nanoClock;
  private final Map<UUID, Bucket> buckets = new HashMap<>();

  EventRateLimiter(int ratePerSec, int burst, int maxRejected, LongSupplier nanoClock) {
    this.ratePerNano = ratePerSec / 1e9;
    this.burst = burst;
    this.maxRejected = maxRejected;
    this.nanoClock = nanoClock;
  }

  Verdict onEvent(UUID sid) {
    long now = nanoClock.getAsLong();
    Bucket b = buckets.get(sid);
    if (b == null) {
      b = new Bucket();
      b.tokens = burst;
      b.refilledAt = now;
      buckets.put(sid, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + (now - b.refilledAt) * ratePerNano);
      b.refilledAt = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.refusedInARow = 0;
      return Verdict.SERVE;
    }
    b.refusedInARow++;
    return b.refusedInARow >= maxRejected ? Verdict.DISCONNECT : Verdict.REFUSE;
  }

  void forget(UUID sid) {
    buckets.remove(sid);
  }

  int tracked() {
    return buckets.size();
  }
}
