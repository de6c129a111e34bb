package com.aichat.api;

import com.aichat.config.ConfigReader;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code subscription.*} and {@code quota.*}.
 *
 * <p>{@code subscription.mode}: {@code none} (default, everyone may chat); {@code claim} (the JWT
 * claim at {@code claim_path} must be one of {@code allowed_values}); {@code mongo} (the field
 * {@code field_path} of the document in {@code collection} whose {@code id_field} is the user's id
 * must be one of {@code allowed_values}; cached {@code cache_seconds}). Refusal is 402
 * {@code SUBSCRIPTION_REQUIRED}.
 *
 * <p>{@code quota.*}: when {@code enabled}, each user may send {@code daily_messages[plan]} messages
 * per UTC day, the plan read from the JWT claim {@code plan_claim} (else {@code default_plan}).
 * Excess gets 429 {@code QUOTA_EXCEEDED} with the reset time.
 */
public record SubscriptionSettings(
    String mode,
    String claimPath,
    List<String> allowedValues,
    String collection,
    String idField,
    String fieldPath,
    long cacheSeconds,
    boolean quotaEnabled,
    String planClaim,
    String defaultPlan,
    Map<String, Long> dailyMessages) {

  public static SubscriptionSettings from(ConfigReader sub, ConfigReader quota) {
    String mode = sub.oneOf("mode", "none", Set.of("none", "claim", "mongo"));
    List<String> allowed = sub.stringList("allowed_values", List.of("active", "trialing"));
    if (!mode.equals("none") && allowed.isEmpty()) {
      throw sub.error("allowed_values", "must not be empty when subscription.mode is " + mode);
    }
    JsonObject daily = quota.object("daily_messages");
    Map<String, Long> perPlan = new HashMap<>();
    for (String plan : daily.fieldNames()) {
      Object v = daily.getValue(plan);
      if (!(v instanceof Number n) || n.longValue() < 0) {
        throw quota.error("daily_messages", "must map plan names to non-negative numbers ('" + plan + "')");
      }
      perPlan.put(plan, n.longValue());
    }
    boolean enabled = quota.bool("enabled", false);
    String defaultPlan = quota.string("default_plan", "free");
    if (enabled && !perPlan.containsKey(defaultPlan)) {
      throw quota.error("default_plan", "must be a key of quota.daily_messages");
    }
    return new SubscriptionSettings(
        mode,
        sub.string("claim_path", "subscription.status"),
        allowed,
        sub.string("collection", "users"),
        sub.string("id_field", "_id"),
        sub.string("field_path", "subscription.status"),
        sub.longValue("cache_seconds", 60, 0, 86_400),
        enabled,
        quota.string("plan_claim", "subscription.plan"),
        defaultPlan,
        Map.copyOf(perPlan));
  }
}
