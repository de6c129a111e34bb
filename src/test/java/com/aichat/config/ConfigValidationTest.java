package com.aichat.config;

import com.aichat.AppConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The configuration the HTTP API and authentication depend on: validation and the env overlay. */
class ConfigValidationTest {

  private static JsonObject defaultsWith(JsonObject overrides) {
    return TestApp.defaults().mergeIn(overrides, true);
  }

  @Test
  @DisplayName("conf/config.json as shipped is valid: embedded store, dev secret, subscription none, quota off")
  void shippedDefaultsAreValid() {
    AppConfig cfg = AppConfig.from(TestApp.defaults());
    assertThat(cfg.auth().usesDevSecret()).isTrue();
    assertThat(cfg.auth().devSecretFile()).isEqualTo(Path.of("./data").resolve("dev-jwt-secret"));
    assertThat(cfg.subscription().mode()).isEqualTo("none");
    assertThat(cfg.subscription().quotaEnabled()).isFalse();
    assertThat(cfg.http().maxBodyBytes()).isEqualTo(262_144);
    assertThat(cfg.http().requestsPerMinute()).isEqualTo(600);
  }

  @Test
  @DisplayName("quota.max_pending_replies (default 5, 0 = off, at most 100) and quota.usage_retention_days (default 35, 1-3650) are validated at their edges")
  void sendLimitKeys() {
    assertThat(AppConfig.from(TestApp.defaults()).subscription().maxPendingReplies()).isEqualTo(5);
    assertThat(AppConfig.from(TestApp.defaults()).subscription().usageRetentionDays()).isEqualTo(35);
    for (int ok : new int[] {0, 100}) {
      assertThat(AppConfig.from(defaultsWith(new JsonObject().put("quota", new JsonObject().put("max_pending_replies", ok))))
          .subscription().maxPendingReplies()).isEqualTo(ok);
    }
    for (Object bad : new Object[] {-1, 101, "5"}) {
      assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("quota", new JsonObject().put("max_pending_replies", bad)))))
          .isInstanceOf(ConfigException.class).hasMessageContaining("quota.max_pending_replies");
    }
    for (int bad : new int[] {0, 3651}) {
      assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("quota", new JsonObject().put("usage_retention_days", bad)))))
          .isInstanceOf(ConfigException.class).hasMessageContaining("quota.usage_retention_days");
    }
  }

  @Test
  @DisplayName("export.page_size (1-100), usage.max_range_days (1-3660) and search.min/max_query_chars (1-1000, min <= max) have defaults and are validated at their edges")
  void historyKeys() {
    com.aichat.api.HistorySettings h = AppConfig.from(TestApp.defaults()).history();
    assertThat(h).isEqualTo(com.aichat.api.HistorySettings.DEFAULTS);
    assertThat(h.usageMaxRangeDays()).isEqualTo(366);
    assertThat(AppConfig.from(defaultsWith(new JsonObject()
        .put("export", new JsonObject().put("page_size", 1))
        .put("usage", new JsonObject().put("max_range_days", 3660))
        .put("search", new JsonObject().put("min_query_chars", 1000).put("max_query_chars", 1000)))).history())
        .isEqualTo(new com.aichat.api.HistorySettings(1, 3660, 1000, 1000));
    assertThat(h.searchMaxScanBytes()).isEqualTo(4L << 20);
    assertThat(h.searchMaxTimeMs()).isEqualTo(2000);
    com.aichat.api.HistorySettings edges = AppConfig.from(defaultsWith(new JsonObject()
        .put("search", new JsonObject().put("max_scan_bytes", 1024).put("max_time_ms", 60_000)))).history();
    assertThat(edges.searchMaxScanBytes()).isEqualTo(1024);
    assertThat(edges.searchMaxTimeMs()).isEqualTo(60_000);
    Object[][] bad = {
        {"export", "page_size", 0}, {"export", "page_size", 101}, {"usage", "max_range_days", 0},
        {"usage", "max_range_days", 3661}, {"search", "max_query_chars", 1001}, {"search", "min_query_chars", 0},
        {"search", "min_query_chars", 201}, {"usage", "max_range_days", "366"},
        {"search", "max_scan_bytes", 1023}, {"search", "max_scan_bytes", (1L << 30) + 1},
        {"search", "max_time_ms", 9}, {"search", "max_time_ms", 60_001}};
    for (Object[] b : bad) {
      assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put((String) b[0], new JsonObject().put((String) b[1], b[2])))))
          .as("%s.%s = %s", b[0], b[1], b[2])
          .isInstanceOf(ConfigException.class).hasMessageContaining(b[0] + "." + b[1]);
    }
  }

  @Test
  @DisplayName("The configuration's text form (e.g. a logged AppConfig) never contains the HS256 secret")
  void secretNeverPrinted() {
    String secret = "s3cret-s3cret-s3cret-s3cret-s3cret-42";
    AppConfig cfg = AppConfig.from(defaultsWith(new JsonObject().put("auth", new JsonObject().put("hs256_secret", secret))));
    assertThat(cfg.auth().hs256Secret()).isEqualTo(secret);
    assertThat(cfg.auth().toString()).doesNotContain(secret).contains("hs256Secret=set");
    assertThat(cfg.toString()).doesNotContain(secret);
  }

  @Test
  @DisplayName("The configuration's text form never contains the MongoDB connection string (it may carry a password)")
  void connectionStringNeverPrinted() {
    String cs = "mongodb://app:pa55w0rd@db.internal:27017/chat";
    AppConfig cfg = AppConfig.from(defaultsWith(new JsonObject()
        .put("mongo", new JsonObject().put("connection_string", cs))
        .put("auth", new JsonObject().put("hs256_secret", "s3cret-s3cret-s3cret-s3cret-s3cret-42"))));
    assertThat(cfg.mongo().connectionString()).isEqualTo(cs);
    assertThat(cfg.toString()).doesNotContain("pa55w0rd").contains("connectionString=set");
  }

  @Test
  @DisplayName("A bad value stops startup with a message naming the key and its environment variable")
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("http", new JsonObject().put("port", 70000)))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("http.port").hasMessageContaining("CHAT_HTTP_PORT");
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("subscription", new JsonObject().put("mode", "paywall")))))
        .hasMessageContaining("subscription.mode");
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("auth", new JsonObject().put("hs256_secret", "short")))))
        .hasMessageContaining("auth.hs256_secret");
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("quota",
            new JsonObject().put("enabled", true).put("default_plan", "gold")))))
        .hasMessageContaining("quota.default_plan");
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(new JsonObject().put("rate_limit",
            new JsonObject().put("requests_per_minute", 0)))))
        .hasMessageContaining("rate_limit.requests_per_minute");
  }

  @Test
  @DisplayName("Outside the embedded default, startup is refused without an explicit secret or JWKS")
  void productionNeedsExplicitKeys() {
    JsonObject external = new JsonObject().put("mongo", new JsonObject().put("connection_string", "mongodb://db:27017"));
    assertThatThrownBy(() -> AppConfig.from(defaultsWith(external)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("auth.hs256_secret").hasMessageContaining("auth.jwks_url");
    AppConfig withJwks = AppConfig.from(defaultsWith(external.copy()
        .put("auth", new JsonObject().put("jwks_url", "https://idp.example.com/.well-known/jwks.json")
            .put("audience", "chat-api"))));
    assertThat(withJwks.auth().usesDevSecret()).isFalse();
    assertThat(withJwks.auth().jwksUrl()).isEqualTo("https://idp.example.com/.well-known/jwks.json");
  }

  @Test
  @DisplayName("Environment variables override keys, typed like the key they override, and a wrong type names the variable")
  void environmentOverlay() {
    JsonObject merged = ConfigLoader.applyEnvironment(TestApp.defaults(), Map.of(
        "CHAT_HTTP_PORT", "9090",
        "CHAT_AUTH_HS256_SECRET", "env-secret-0123456789-abcdefghijklmnopqrstu",
        "CHAT_SUBSCRIPTION_ALLOWED_VALUES", "[\"active\"]",
        "CHAT_QUOTA_ENABLED", "true",
        "CHAT_QUOTA_DAILY_MESSAGES", "{\"free\":3}"));
    AppConfig cfg = AppConfig.from(merged);
    assertThat(cfg.http().port()).isEqualTo(9090);
    assertThat(cfg.auth().hs256Secret()).isEqualTo("env-secret-0123456789-abcdefghijklmnopqrstu");
    assertThat(cfg.auth().usesDevSecret()).isFalse();
    assertThat(cfg.subscription().allowedValues()).containsExactly("active");
    assertThat(cfg.subscription().quotaEnabled()).isTrue();
    assertThat(cfg.subscription().dailyMessages()).containsExactlyEntriesOf(Map.of("free", 3L));
    assertThat(merged.getJsonObject("subscription").getValue("allowed_values")).isInstanceOf(JsonArray.class);

    assertThatThrownBy(() -> ConfigLoader.applyEnvironment(TestApp.defaults(), Map.of("CHAT_HTTP_PORT", "eighty")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CHAT_HTTP_PORT").hasMessageContaining("http.port");
    assertThatThrownBy(() -> ConfigLoader.applyEnvironment(TestApp.defaults(), Map.of("CHAT_QUOTA_ENABLED", "yes")))
        .hasMessageContaining("CHAT_QUOTA_ENABLED");
  }
}
