package com.aichat.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("dispatch.* queue limits: defaults and validation at startup")
class DispatchSettingsTest {

  private static AppConfig with(JsonObject dispatch) {
    return AppConfig.from(TestApp.defaults().mergeIn(new JsonObject().put("dispatch", dispatch), true));
  }

  @Test
  @DisplayName("the shipped config queues at most 10,000 replies, 50 per user, 10 s of expected wait, load every 100 ms")
  void shippedDefaults() {
    DispatchSettings d = AppConfig.from(TestApp.defaults()).dispatch();
    assertThat(d.maxQueued()).isEqualTo(10_000);
    assertThat(d.maxQueuedPerUser()).isEqualTo(50);
    assertThat(d.maxQueueWaitMs()).isEqualTo(10_000);
    assertThat(d.loadIntervalMs()).isEqualTo(100);
    assertThat(d.loadStaleAfterMs()).isEqualTo(5_000);
  }

  @Test
  @DisplayName("limits at their edges are accepted; past them, or a per-user limit above the total, stop startup naming the key")
  void edges() {
    DispatchSettings d = with(new JsonObject().put("max_queued", 1).put("max_queued_per_user", 1)
        .put("max_queue_wait_ms", 0).put("load_interval_ms", 10)).dispatch();
    assertThat(d.maxQueued()).isEqualTo(1);
    assertThat(d.maxQueueWaitMs()).isZero();
    assertThatThrownBy(() -> with(new JsonObject().put("max_queued", 0)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dispatch.max_queued")
        .hasMessageContaining("CHAT_DISPATCH_MAX_QUEUED");
    assertThatThrownBy(() -> with(new JsonObject().put("max_queued", 10).put("max_queued_per_user", 11)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dispatch.max_queued_per_user");
    assertThatThrownBy(() -> with(new JsonObject().put("max_queue_wait_ms", -1)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dispatch.max_queue_wait_ms");
    assertThatThrownBy(() -> with(new JsonObject().put("load_interval_ms", 9)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dispatch.load_interval_ms");
  }

  @Test
  @DisplayName("dispatch.release_on_node_loss is on by default, can be turned off, and must be a boolean")
  void releaseOnNodeLoss() {
    assertThat(AppConfig.from(TestApp.defaults()).dispatch().releaseOnNodeLoss()).isTrue();
    assertThat(with(new JsonObject().put("release_on_node_loss", false)).dispatch().releaseOnNodeLoss()).isFalse();
    assertThatThrownBy(() -> with(new JsonObject().put("release_on_node_loss", "yes")))
        .isInstanceOf(ConfigException.class).hasMessageContaining("dispatch.release_on_node_loss");
  }
}
