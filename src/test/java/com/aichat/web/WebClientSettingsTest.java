package com.aichat.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.config.ConfigLoader;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@code webclient.*}: defaults, the environment overlay and validation. */
class WebClientSettingsTest {

  private static AppConfig with(JsonObject webclient) {
    return AppConfig.from(TestApp.defaults().mergeIn(new JsonObject().put("webclient", webclient), true));
  }

  @Test
  @DisplayName("As shipped, the web client is on and connects to the gateway on the page's own host")
  void defaults() {
    AppConfig cfg = AppConfig.from(TestApp.defaults());
    assertThat(cfg.webclient().enabled()).isTrue();
    assertThat(cfg.webclient().gatewayUrl()).isNull();
    assertThat(cfg.webclient().markdownMaxQuoteDepth()).isEqualTo(32);
    assertThat(AppConfig.from(TestApp.defaults().copy().put("webclient", new JsonObject())).webclient().enabled()).isTrue();
  }

  @Test
  @DisplayName("CHAT_WEBCLIENT_ENABLED=false turns it off; CHAT_WEBCLIENT_GATEWAY_URL sets the gateway URL")
  void environment() {
    AppConfig cfg = AppConfig.from(ConfigLoader.applyEnvironment(TestApp.defaults(), Map.of(
        "CHAT_WEBCLIENT_ENABLED", "false", "CHAT_WEBCLIENT_GATEWAY_URL", "https://rt.example.com",
        "CHAT_WEBCLIENT_MARKDOWN_MAX_QUOTE_DEPTH", "8")));
    assertThat(cfg.webclient().enabled()).isFalse();
    assertThat(cfg.webclient().markdownMaxQuoteDepth()).isEqualTo(8);
    assertThat(cfg.webclient().gatewayUrl()).isEqualTo("https://rt.example.com");
  }

  @Test
  @DisplayName("A non-boolean enabled or a gateway_url that is not an absolute http(s) URL stops startup, naming the key")
  void invalid() {
    assertThatThrownBy(() -> with(new JsonObject().put("enabled", "yes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("webclient.enabled").hasMessageContaining("CHAT_WEBCLIENT_ENABLED");
    assertThatThrownBy(() -> with(new JsonObject().put("gateway_url", "ws://rt.example.com")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("webclient.gateway_url")
        .hasMessageContaining("CHAT_WEBCLIENT_GATEWAY_URL");
    assertThatThrownBy(() -> with(new JsonObject().put("markdown_max_quote_depth", 0)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("webclient.markdown_max_quote_depth");
    assertThatThrownBy(() -> with(new JsonObject().put("gateway_url", "/socket")))
        .hasMessageContaining("webclient.gateway_url");
    assertThat(with(new JsonObject().put("gateway_url", "http://10.0.0.5:8081")).webclient().gatewayUrl())
        .isEqualTo("http://10.0.0.5:8081");
  }
}
