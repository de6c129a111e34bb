package com.aichat.api;

import com.aichat.auth.AuthenticatedUser;
import com.aichat.auth.ClaimPath;
import com.aichat.contract.ErrorCode;
import com.aichat.persistence.ChatStore;
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
 * on every {@code /chats} route, the per-user rate limit, and the daily per-plan message quota on
 * sends. Mongo lookups go through the store and are cached per API instance for
 * {@code subscription.cache_seconds} in a bounded LRU table.
 */
final class AccessPolicy {

  static final int MAX_CACHED_USERS = 10_000;

  private record Cached(boolean allowed, long expiresAtMillis) {}

  private final SubscriptionSettings settings;
  private final ChatStore store;
  private final RateLimiter rateLimiter;
  private final Map<String, Cached> cache =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
          return size() > MAX_CACHED_USERS;
        }
      };

  AccessPolicy(SubscriptionSettings settings, ChatStore store, RateLimiter rateLimiter) {
    this.settings = settings;
    this.store = store;
    this.rateLimiter = rateLimiter;
  }

  /** 429 RATE_LIMITED when the user used up this minute's requests. */
  void checkRate(AuthenticatedUser user) {
    long resetAt = rateLimiter.acquire(user.userId(), System.currentTimeMillis());
    if (resetAt >= 0) {
      throw tooMany(ErrorCode.RATE_LIMITED, "too many requests; slow down", Instant.ofEpochMilli(resetAt),
          new JsonObject());
    }
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
   * 429 QUOTA_EXCEEDED when the user already sent the plan's daily number of messages this UTC day.
   * Concurrent sends may overshoot the limit by the number in flight; the count is the store's.
   */
  Future<Void> checkQuota(AuthenticatedUser user) {
    if (!settings.quotaEnabled()) {
      return Future.succeededFuture();
    }
    Object claimed = ClaimPath.read(user.claims(), settings.planClaim());
    String plan = claimed instanceof String p && settings.dailyMessages().containsKey(p) ? p : settings.defaultPlan();
    long limit = settings.dailyMessages().get(plan);
    Instant midnight = LocalDate.now(ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant reset = midnight.plusSeconds(86_400);
    return store.countUserMessagesSince(user.userId(), midnight).compose(used -> used < limit
        ? Future.succeededFuture()
        : Future.failedFuture(tooMany(ErrorCode.QUOTA_EXCEEDED,
            "daily message quota of " + limit + " for plan '" + plan + "' is used up", reset,
            new JsonObject().put("plan", plan).put("limit", limit).put("used", used))));
  }

  private static ApiError tooMany(ErrorCode code, String message, Instant resetAt, JsonObject details) {
    long retryAfter = Math.max(1, (resetAt.toEpochMilli() - System.currentTimeMillis() + 999) / 1000);
    return ApiError.of(code, message)
        .withDetails(details.put("resetAt", resetAt.toString()))
        .withHeader("Retry-After", Long.toString(retryAfter));
  }
}
