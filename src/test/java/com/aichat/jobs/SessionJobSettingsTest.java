package com.aichat.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.jobs.title.TitleSettings;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code session_jobs.*} and {@code titles.*}: defaults, and validation at the edges naming the key. */
class SessionJobSettingsTest {

  private static AppConfig with(String section, String key, Object value) {
    return AppConfig.from(TestApp.defaults().mergeIn(
        new JsonObject().put(section, new JsonObject().put(key, value)), true));
  }

  private static void refused(String section, String key, Object value) {
    assertThatThrownBy(() -> with(section, key, value))
        .as("%s.%s = %s", section, key, value)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(section + "." + key);
  }

  @Test
  @DisplayName("the shipped defaults: titles on with a small model, 30 s leases, 3 attempts")
  void defaults() {
    AppConfig cfg = AppConfig.from(TestApp.defaults());
    assertThat(cfg.titles().enabled()).isTrue();
    assertThat(cfg.titles().model()).isEqualTo(TitleSettings.DEFAULT_MODEL);
    assertThat(cfg.titles().prompt()).isEqualTo(TitleSettings.DEFAULT_PROMPT);
    assertThat(cfg.titles().maxTokens()).isEqualTo(32);
    assertThat(cfg.titles().maxChars()).isEqualTo(80);
    assertThat(cfg.sessionJobs().leaseMs()).isEqualTo(30_000);
    assertThat(cfg.sessionJobs().renewIntervalMs()).isEqualTo(10_000);
    assertThat(cfg.sessionJobs().maxAttempts()).isEqualTo(3);
    assertThat(cfg.sessionJobs().maxConcurrent()).isEqualTo(8);
  }

  @Test
  @DisplayName("titles.* edges: max_tokens 1-1024, max_chars 10-200, input_chars 100-100000, non-blank model and prompt, boolean enabled")
  void titleEdges() {
    assertThat(with("titles", "max_tokens", 1).titles().maxTokens()).isEqualTo(1);
    assertThat(with("titles", "max_tokens", 1024).titles().maxTokens()).isEqualTo(1024);
    refused("titles", "max_tokens", 0);
    refused("titles", "max_tokens", 1025);
    assertThat(with("titles", "max_chars", 10).titles().maxChars()).isEqualTo(10);
    assertThat(with("titles", "max_chars", 200).titles().maxChars()).isEqualTo(200);
    refused("titles", "max_chars", 9);
    refused("titles", "max_chars", 201);
    assertThat(with("titles", "input_chars", 100).titles().inputChars()).isEqualTo(100);
    refused("titles", "input_chars", 99);
    refused("titles", "input_chars", 100_001);
    refused("titles", "model", "  ");
    refused("titles", "model", 5);
    refused("titles", "prompt", "");
    refused("titles", "enabled", "yes");
    assertThat(with("titles", "enabled", false).titles().enabled()).isFalse();
  }

  @Test
  @DisplayName("session_jobs.* edges: lease_ms 1000-3600000, max_attempts 1-100, max_concurrent 1-10000, backoff_max_ms at least backoff_initial_ms")
  void sessionJobEdges() {
    assertThat(with("session_jobs", "lease_ms", 1000).sessionJobs().leaseMs()).isEqualTo(1000);
    assertThat(with("session_jobs", "lease_ms", 1000).sessionJobs().renewIntervalMs()).isEqualTo(333);
    refused("session_jobs", "lease_ms", 999);
    refused("session_jobs", "lease_ms", 3_600_001);
    assertThat(with("session_jobs", "max_attempts", 1).sessionJobs().maxAttempts()).isEqualTo(1);
    assertThat(with("session_jobs", "max_attempts", 100).sessionJobs().maxAttempts()).isEqualTo(100);
    refused("session_jobs", "max_attempts", 0);
    refused("session_jobs", "max_attempts", 101);
    refused("session_jobs", "max_concurrent", 0);
    refused("session_jobs", "max_concurrent", 10_001);
    refused("session_jobs", "backoff_initial_ms", 0);
    assertThatThrownBy(() -> AppConfig.from(TestApp.defaults().mergeIn(new JsonObject().put("session_jobs",
            new JsonObject().put("backoff_initial_ms", 5000).put("backoff_max_ms", 4999)), true)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("session_jobs.backoff_max_ms");
  }
}
