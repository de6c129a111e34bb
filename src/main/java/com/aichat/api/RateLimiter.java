package com.aichat.api;

import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-user request limit ({@code rate_limit.requests_per_minute}) over fixed one-minute windows.
 * One limiter is shared by every HTTP API instance of this process (through a Vert.x local map); it is
 * not shared between processes: on a clustered node {@link AccessPolicy#checkRate} adds the cluster-wide
 * count ({@link com.aichat.limits.ClusterLimits}) on top, and this one is its fallback. At most
 * {@link #MAX_TRACKED_USERS} users are tracked: past windows are dropped first, and if the table is
 * still full the request is let through untracked rather than refusing an innocent user.
 */
final class RateLimiter implements Shareable {

  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
  static final int MAX_TRACKED_USERS = 100_000;
  private static final String MAP = "chat.api.rate-limiter";

  private record Window(long minute, int count) {}

  private final int perMinute;
  private final Map<String, Window> windows = new HashMap<>();

  RateLimiter(int perMinute) {
    this.perMinute = perMinute;
  }

  int perMinute() {
    return perMinute;
  }

  /** The process-wide limiter for {@code perMinute}. */
  static RateLimiter shared(Vertx vertx, int perMinute) {
    return shared(vertx, "per-minute", perMinute);
  }

  /** The process-wide limiter named {@code name} for {@code perMinute} (its keys apart from the others'). */
  static RateLimiter shared(Vertx vertx, String name, int perMinute) {
    LocalMap<String, RateLimiter> map = vertx.sharedData().getLocalMap(MAP);
    String key = name + "-" + perMinute;
    RateLimiter fresh = new RateLimiter(perMinute);
    RateLimiter existing = map.putIfAbsent(key, fresh);
    return existing != null ? existing : fresh;
  }

  /**
   * Counts one request of {@code userId} at {@code nowMillis}. Returns -1 when allowed, else the epoch
   * millisecond at which the user's window resets.
   */
  synchronized long acquire(String userId, long nowMillis) {
    long minute = nowMillis / 60_000;
    Window w = windows.get(userId);
    if (w == null || w.minute() != minute) {
      if (w == null && windows.size() >= MAX_TRACKED_USERS) {
        windows.values().removeIf(x -> x.minute() != minute);
        if (windows.size() >= MAX_TRACKED_USERS) {
          log.warn("rate limiter tracks {} users this minute; letting {} through untracked", windows.size(), userId);
          return -1;
        }
      }
      windows.put(userId, new Window(minute, 1));
      return -1;
    }
    if (w.count() >= perMinute) {
      return (minute + 1) * 60_000;
    }
    windows.put(userId, new Window(minute, w.count() + 1));
    return -1;
  }
}
