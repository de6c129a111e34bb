package com.aichat.gateway;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per user (on this gateway node) for the events its sockets send ({@code join},
 * {@code leave}): up to {@code gateway.event_burst} at once, then {@code gateway.event_rate_per_sec},
 * shared by all of the user's sockets. An event over the limit is not served; once
 * {@code gateway.max_rejected_events} have been refused in a row, with none served between them, the
 * sending socket counts as abusive and is to be disconnected.
 *
 * <p>Per user rather than per socket, and kept after the socket is gone: a client that reconnects
 * gets no fresh burst (AbuseBenchmark measured ~270 joins/s served to reconnecting attackers with
 * per-socket buckets). {@link #evictIdle} drops buckets that have refilled completely, which are
 * indistinguishable from new ones, so memory stays bounded by the users active in the last
 * {@code burst / rate} seconds. Runs on the gateway verticle's context (no locking).
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
  private final Map<String, Bucket> buckets = new HashMap<>();

  EventRateLimiter(int ratePerSec, int burst, int maxRejected, LongSupplier nanoClock) {
    this.ratePerNano = ratePerSec / 1e9;
    this.burst = burst;
    this.maxRejected = maxRejected;
    this.nanoClock = nanoClock;
  }

  Verdict onEvent(String userId) {
    long now = nanoClock.getAsLong();
    Bucket b = buckets.get(userId);
    if (b == null) {
      b = new Bucket();
      b.tokens = burst;
      b.refilledAt = now;
      buckets.put(userId, b);
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

  /** Drops the buckets that are full again (no event for burst/rate seconds). */
  void evictIdle() {
    long now = nanoClock.getAsLong();
    buckets.values().removeIf(b -> b.tokens + (now - b.refilledAt) * ratePerNano >= burst);
  }

  int tracked() {
    return buckets.size();
  }
}
