package com.aichat.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class LimitsSettingsTest {

  private static LimitsSettings limits(JsonObject section) {
    JsonObject cfg = TestApp.defaults();
    cfg.put("limits", section);
    return AppConfig.from(cfg).limits();
  }

  @Test
  @DisplayName("limits.scope defaults to cluster and limits.cluster_timeout_ms to 500, as shipped and when the section is absent")
  void defaults() {
    assertThat(AppConfig.from(TestApp.defaults()).limits()).isEqualTo(LimitsSettings.defaults());
    JsonObject without = TestApp.defaults();
    without.remove("limits");
    LimitsSettings absent = AppConfig.from(without).limits();
    assertThat(absent.scope()).isEqualTo(LimitsSettings.Scope.CLUSTER);
    assertThat(absent.clusterWide()).isTrue();
    assertThat(absent.clusterTimeoutMs()).isEqualTo(500);
  }

  @Test
  @DisplayName("limits.scope accepts cluster and node only")
  void scopeValues() {
    assertThat(limits(new JsonObject().put("scope", "node")).clusterWide()).isFalse();
    assertThat(limits(new JsonObject().put("scope", "cluster")).clusterWide()).isTrue();
    for (Object bad : new Object[] {"global", "", "CLUSTER", 1}) {
      assertThatThrownBy(() -> limits(new JsonObject().put("scope", bad)))
          .isInstanceOf(ConfigException.class).hasMessageContaining("limits.scope");
    }
  }

  @Test
  @DisplayName("limits.cluster_timeout_ms is accepted from 10 to 60000 and refused outside")
  void timeoutEdges() {
    for (long ok : new long[] {10, 60_000}) {
      assertThat(limits(new JsonObject().put("cluster_timeout_ms", ok)).clusterTimeoutMs()).isEqualTo(ok);
    }
    for (Object bad : new Object[] {9, 60_001, -1, "500"}) {
      assertThatThrownBy(() -> limits(new JsonObject().put("cluster_timeout_ms", bad)))
          .isInstanceOf(ConfigException.class).hasMessageContaining("limits.cluster_timeout_ms");
    }
  }

  @Test
  @DisplayName("A Vert.x that is not clustered, or limits.scope node, gets no cluster-wide limits (everything stays local)")
  void localWithoutCluster() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      assertThat(ClusterLimits.of(vertx, LimitsSettings.defaults()).await()).isNull();
      assertThat(ClusterLimits.of(vertx, new LimitsSettings(LimitsSettings.Scope.NODE, 500)).await()).isNull();
    } finally {
      vertx.close().await();
    }
  }
}
