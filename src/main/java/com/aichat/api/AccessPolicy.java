package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.auth.ClaimPath;
import com.aichat.contract.ErrorCode;
import com.aichat.limits.ClusterLimits;
import com.aichat.persistence.Conversations;
import com.aichat.persistence.Conversations.SendLimits;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who may chat, and how much: the subscription check ({@code subscription.mode} none, claim or mongo)
 * on every {@code /chats} route, the per-user rate limit (counted cluster-wide when a
 * {@link ClusterLimits} is given, see {@link #checkRate}), and the send limits (the daily per-plan
 * message quota and the pending-reply cap, enforced by the store). Mongo lookups go through the store and are cached per API instance for
 * {@code subscription.cache_seconds} in a bounded LRU table.
 */
final class AccessPolicy {

  static final int MAX_CACHED_USERS = 10_000;

  private record Cached(boolean allowed, long expiresAtMillis) {}

  private final SubscriptionSettings settings;
  private final Conversations store;
  private final RateLimiter rateLimiter;
  private final ClusterLimits cluster;
  private final Map<String, Cached> cache =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
          return size() > MAX_CACHED_USERS;
        }
      };

  /** {@code cluster} null: the rate limit is counted by this process's {@code rateLimiter} alone. */
  AccessPolicy(SubscriptionSettings settings, Conversations store, RateLimiter rateLimiter, ClusterLimits cluster) {
    this.settings = settings;
    this.store = store;
    this.rateLimiter = rateLimiter;
    this.cluster = cluster;
  }

  /**
   * 429 RATE_LIMITED when the user used up this minute's requests. The process's own count comes first
   * (no cluster round trip for a user this node alone already refuses: the cluster's count is never
   * lower); then, when clustered, the cluster-wide window decides. If the cluster does not answer in
   * {@code limits.cluster_timeout_ms}, the request is admitted on the local count alone (fail-open to
   * the per-node limit).
   */
  Future<Void> checkRate(AuthenticatedUser user) {
    long now = System.currentTimeMillis();
    long resetAt = rateLimiter.acquire(user.userId(), now);
    if (resetAt >= 0) {
      return Future.failedFuture(rateLimited(resetAt));
    }
    if (cluster == null) {
      return Future.succeededFuture();
    }
    long minute = now / 60_000;
    int limit = rateLimiter.perMinute();
    return cluster.countRequest(user.userId(), minute, limit)
        .recover(err -> {
          cluster.fellBack("rate", err);
          return Future.succeededFuture(0L);
        })
        .compose(count -> count > limit
            ? Future.failedFuture(rateLimited((minute + 1) * 60_000))
            : Future.succeededFuture());
  }

  static ApiError rateLimited(long resetAt) {
    return tooMany(ErrorCode.RATE_LIMITED, "too many requests; slow down", Instant.ofEpochMilli(resetAt),
        new JsonObject());
  }

  /** 402 SUBSCRIPTION_REQUIRED unless the configured source says the user may chat. */
  Future<Void> checkSubscription(AuthenticatedUser user) {
    return switch (settings.mode()) {
      case "claim" -> verdict(allowedValue(ClaimPath.read(user.claims(), settings.claimPath())));
      case "mongo" -> lookupSubscription(user.userId()).compose(this::verdict);
      default -> Future.succeededFuture();
    };
  }

  private Future<Void> verdict(boolean allowed) {
    return allowed
        ? Future.succeededFuture()
        : Future.failedFuture(ApiError.of(ErrorCode.SUBSCRIPTION_REQUIRED, "an active subscription is required"));
  }

  private Future<Boolean> lookupSubscription(String userId) {
    long now = System.currentTimeMillis();
    Cached hit = cache.get(userId);
    if (hit != null && hit.expiresAtMillis() > now) {
      return Future.succeededFuture(hit.allowed());
    }
    return store
        .lookupUserField(settings.collection(), settings.idField(), userId, settings.fieldPath())
        .map(o -> Boolean.TRUE.equals(o.getBoolean("found")) && allowedValue(o.getValue("value")))
        .onSuccess(allowed -> {
          if (settings.cacheSeconds() > 0) {
            cache.put(userId, new Cached(allowed, now + settings.cacheSeconds() * 1000));
          }
        });
  }

  private boolean allowedValue(Object value) {
    if (value instanceof JsonArray arr) {
      return arr.stream().anyMatch(this::allowedValue);
    }
    return value != null && !(value instanceof JsonObject) && settings.allowedValues().contains(String.valueOf(value));
  }

  /**
   * The limits the store admits this user's send under: the plan's daily quota for today (UTC) when
   * {@code quota.enabled}, and {@code quota.max_pending_replies}. The store checks and counts them
   * atomically with the send ({@link Conversations#sendMessage(String, String, String, String, SendLimits)}).
   */
  SendLimits sendLimits(AuthenticatedUser user) {
    long daily = settings.quotaEnabled() ? settings.dailyMessages().get(plan(user)) : -1;
    return new SendLimits(daily, LocalDate.now(ZoneOffset.UTC).toString(), settings.usageRetentionDays(),
        settings.maxPendingReplies());
  }

  /**
   * The store's refusal of a send as the API answers it: 429 QUOTA_EXCEEDED with the plan, its limit,
   * the reset time (next UTC midnight) and {@code Retry-After}; 429 TOO_MANY_PENDING with the cap. Any
   * other failure is returned as it is.
   */
  Throwable sendRefusal(AuthenticatedUser user, Throwable err) {
    ErrorCode code = ErrorCode.fromThrowable(err);
    if (code == ErrorCode.QUOTA_EXCEEDED) {
      String plan = plan(user);
      long limit = settings.dailyMessages().get(plan);
      Instant reset = LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      // The counter's conditional increment never passes the limit, so a refusal means all were used.
      return tooMany(ErrorCode.QUOTA_EXCEEDED,
          "daily message quota of " + limit + " for plan '" + plan + "' is used up", reset,
          new JsonObject().put("plan", plan).put("limit", limit).put("used", limit));
    }
    if (code == ErrorCode.TOO_MANY_PENDING) {
      return ApiError.of(ErrorCode.TOO_MANY_PENDING, err.getMessage())
          .withDetails(new JsonObject().put("limit", settings.maxPendingReplies()));
    }
    return err;
  }

  private String plan(AuthenticatedUser user) {
    Object claimed = ClaimPath.read(user.claims(), settings.planClaim());
    return claimed instanceof String p && settings.dailyMessages().containsKey(p) ? p : settings.defaultPlan();
  }

  private static ApiError tooMany(ErrorCode code, String message, Instant resetAt, JsonObject details) {
    long retryAfter = Math.max(1, (resetAt.toEpochMilli() - System.currentTimeMillis() + 999) / 1000);
    return ApiError.of(code, message)
        .withDetails(details.put("resetAt", resetAt.toString()))
        .withHeader("Retry-After", Long.toString(retryAfter));
  }
}
