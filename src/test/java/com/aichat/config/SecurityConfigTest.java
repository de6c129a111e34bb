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
}
