package com.aichat.config;

import com.aichat.AppConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Issue 10 findings 5 and 12: startup refuses configurations that accept foreign or tampered keys. */
class SecurityConfigTest {

  private static final String JWKS = "https://idp.example.com/.well-known/jwks.json";

  private static AppConfig config(JsonObject overrides) {
    return AppConfig.from(TestApp.defaults().mergeIn(overrides, true));
  }

  private static JsonObject auth(JsonObject auth) {
    return new JsonObject().put("auth", auth);
  }

  @Test
  @DisplayName("JWKS mode without auth.audience is refused, naming the key and the opt-out")
  void jwksNeedsAudience() {
    assertThatThrownBy(() -> config(auth(new JsonObject().put("jwks_url", JWKS))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("auth.audience")
        .hasMessageContaining("CHAT_AUTH_AUDIENCE")
        .hasMessageContaining("auth.allow_any_audience");
    AppConfig withAudience = config(auth(new JsonObject().put("jwks_url", JWKS).put("audience", "chat-api")));
    assertThat(withAudience.auth().audience()).isEqualTo("chat-api");
    AppConfig optedOut = config(auth(new JsonObject().put("jwks_url", JWKS).put("allow_any_audience", true)));
    assertThat(optedOut.auth().audience()).isNull();
    assertThatThrownBy(() -> config(auth(new JsonObject().put("jwks_url", JWKS).put("allow_any_audience", "yes"))))
        .hasMessageContaining("auth.allow_any_audience");
  }

  @Test
  @DisplayName("HS256 mode (a secret we share with nobody else) does not need an audience")
  void secretModeNeedsNoAudience() {
    AppConfig cfg = config(auth(new JsonObject().put("hs256_secret", "s3cret-s3cret-s3cret-s3cret-s3cret-42")));
    assertThat(cfg.auth().audience()).isNull();
    assertThat(config(new JsonObject()).auth().usesDevSecret()).isTrue();
  }

  @Test
  @DisplayName("Plain-http JWKS and OIDC key URLs are refused unless they point at loopback")
  void keyUrlsMustBeHttps() {
    JsonObject jwksAuth = new JsonObject().put("audience", "chat-api");
    for (String bad : new String[] {
        "http://idp.example.com/jwks.json", "http://10.0.0.7/jwks", "http://127.0.0.1.evil.example/jwks",
        "http://localhost.evil.example/jwks", "ftp://idp.example.com/jwks"}) {
      assertThatThrownBy(() -> config(auth(jwksAuth.copy().put("jwks_url", bad))))
          .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("auth.jwks_url");
      assertThatThrownBy(() -> config(new JsonObject().put("cloud_tasks",
              new JsonObject().put("oidc_jwks_url", bad))))
          .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("cloud_tasks.oidc_jwks_url");
    }
    for (String ok : new String[] {
        "https://idp.example.com/jwks.json", "http://127.0.0.1:8099/jwks", "http://localhost:8099/jwks",
        "http://[::1]:8099/jwks", "http://127.1.2.3/jwks"}) {
      assertThat(config(auth(jwksAuth.copy().put("jwks_url", ok))).auth().jwksUrl()).isEqualTo(ok);
      assertThat(config(new JsonObject().put("cloud_tasks", new JsonObject().put("oidc_jwks_url", ok)))
          .cloudTasks().oidcJwksUrl()).isEqualTo(ok);
    }
  }

  // ---- issue 24, finding 4: the generated dev secret on a reachable address --------------------------

  private static final String SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret-42";
  private static final JsonObject CLAUDE = new JsonObject().put("claude", new JsonObject().put("api_key", "sk-test"));

  @Test
  @DisplayName("On the dev secret, http.host and gateway.host 0.0.0.0 become loopback unless auth.dev_public_bind")
  void devSecretListensOnLoopback() {
    AppConfig dev = config(new JsonObject());
    assertThat(dev.auth().usesDevSecret()).isTrue();
    assertThat(dev.http().host()).isEqualTo("127.0.0.1");
    assertThat(dev.gateway().host()).isEqualTo("127.0.0.1");
    AppConfig loopback = config(new JsonObject().put("http", new JsonObject().put("host", "::1")));
    assertThat(loopback.http().host()).isEqualTo("::1");
    AppConfig publicDev = config(auth(new JsonObject().put("dev_public_bind", true)));
    assertThat(publicDev.http().host()).isEqualTo("0.0.0.0");
    assertThat(publicDev.gateway().host()).isEqualTo("0.0.0.0");
    AppConfig real = config(auth(new JsonObject().put("hs256_secret", SECRET)));
    assertThat(real.http().host()).isEqualTo("0.0.0.0");
    assertThat(real.gateway().host()).isEqualTo("0.0.0.0");
  }

  @Test
  @DisplayName("The dev secret with a Claude API key is refused unless auth.dev_with_api_key; a real secret needs no flag")
  void devSecretWithApiKeyIsRefused() {
    assertThatThrownBy(() -> config(CLAUDE.copy()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("POST /dev/token")
        .hasMessageContaining("CHAT_AUTH_HS256_SECRET")
        .hasMessageContaining("auth.dev_with_api_key")
        .hasMessageContaining("CHAT_AUTH_DEV_WITH_API_KEY");
    assertThat(config(CLAUDE.copy().mergeIn(auth(new JsonObject().put("dev_with_api_key", true)))).providers().useClaude())
        .isTrue();
    assertThat(config(CLAUDE.copy().mergeIn(auth(new JsonObject().put("hs256_secret", SECRET)))).auth().usesDevSecret())
        .isFalse();
    // the key configured but the offline model chosen: nothing to spend
    assertThat(config(CLAUDE.copy().put("ai", new JsonObject().put("provider", "offline"))).providers().useClaude()).isFalse();
  }

  @Test
  @DisplayName("auth.dev_tokens_per_minute accepts 1..100000 (default 10)")
  void devTokenRateBounds() {
    assertThat(config(new JsonObject()).auth().devTokensPerMinute()).isEqualTo(10);
    assertThat(config(auth(new JsonObject().put("dev_tokens_per_minute", 1))).auth().devTokensPerMinute()).isEqualTo(1);
    assertThatThrownBy(() -> config(auth(new JsonObject().put("dev_tokens_per_minute", 0))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("CHAT_AUTH_DEV_TOKENS_PER_MINUTE");
  }
}
