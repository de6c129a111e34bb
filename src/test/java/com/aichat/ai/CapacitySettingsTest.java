package com.aichat.ai;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.AppConfig;
import com.aichat.config.ConfigException;
import com.aichat.config.ConfigReader;
import com.aichat.testing.TestApp;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The capacity settings: limits derived from the heap, their edges, and their validation. */
@DisplayName("Capacity settings: worker limits from the heap, provider pool from the worker, validated at startup")
class CapacitySettingsTest {

  /** 500 streams × 64 KB at a 25% heap share: the smallest heap for 500 streams with the shipped config. */
  private static final long HEAP_FOR_500 = 500L * 64 * 1024 * 100 / WorkerSettings.HEAP_SHARE_PERCENT;

  private static JsonObject shippedWorker() {
    return TestApp.defaults().getJsonObject("worker");
  }

  private static WorkerSettings worker(JsonObject w, int instances, long heap, long fds) {
    return WorkerSettings.from(new ConfigReader(w, "worker"), new ConfigReader(new JsonObject(), "context"),
        instances, heap, fds);
  }

  private static AppConfig app(JsonObject overrides) {
    return AppConfig.from(TestApp.defaults().mergeIn(overrides, true));
  }

  @Test
  @DisplayName("the shipped config derives the node limit from the heap: exactly 500 streams at 125 MB, one fewer just below it")
  void shippedDefaultsAreHeapDerived() {
    WorkerSettings at = worker(shippedWorker(), 2, HEAP_FOR_500, -1);
    assertThat(at.maxConcurrentPerNode()).isEqualTo(500);
    assertThat(at.maxConcurrent()).isEqualTo(250);
    assertThat(worker(shippedWorker(), 2, HEAP_FOR_500 - 100, -1).maxConcurrentPerNode()).isEqualTo(499);
    // a 1 GB heap: 4096 per node, 2048 for each of the two shipped worker instances
    WorkerSettings gb = worker(shippedWorker(), 2, 1L << 30, -1);
    assertThat(gb.maxConcurrentPerNode()).isEqualTo(4096);
    assertThat(gb.maxConcurrent()).isEqualTo(2048);
    assertThat(gb.maxPerUser()).isEqualTo(2);
  }

  @Test
  @DisplayName("the derived limit is clamped: at least 16, at most 10,000, at most half the file-descriptor limit")
  void derivedLimitIsClamped() {
    assertThat(WorkerSettings.autoNodeLimit(1 << 20, 64, -1)).isEqualTo(WorkerSettings.MIN_AUTO_NODE);
    assertThat(WorkerSettings.autoNodeLimit(64L << 30, 64, -1)).isEqualTo(WorkerSettings.MAX_AUTO_NODE);
    assertThat(WorkerSettings.autoNodeLimit(1L << 30, 64, 1000)).isEqualTo(500);
    assertThat(WorkerSettings.autoNodeLimit(1L << 30, 64, 8194)).isEqualTo(4096);
    // a larger per-stream budget halves the limit
    assertThat(WorkerSettings.autoNodeLimit(1L << 30, 128, -1)).isEqualTo(2048);
  }

  @Test
  @DisplayName("explicit limits win: max_concurrent_per_node is split across instances (rounded up), max_concurrent overrides the split")
  void explicitLimits() {
    WorkerSettings split = worker(shippedWorker().copy().put("max_concurrent_per_node", 7), 2, 1L << 30, -1);
    assertThat(split.maxConcurrentPerNode()).isEqualTo(7);
    assertThat(split.maxConcurrent()).isEqualTo(4);
    WorkerSettings perInstance = worker(shippedWorker().copy().put("max_concurrent", 3), 2, 1L << 30, -1);
    assertThat(perInstance.maxConcurrent()).isEqualTo(3);
    // a node that runs no worker still reads valid settings
    assertThat(worker(shippedWorker(), 0, 1L << 30, -1).maxConcurrent()).isEqualTo(4096);
  }

  @Test
  @DisplayName("the provider pool follows the resolved worker limit unless claude.max_connections is set")
  void poolFollowsTheWorker() {
    AppConfig byDefault = app(new JsonObject().put("worker", new JsonObject().put("max_concurrent", 600)));
    assertThat(byDefault.providers().claude().maxConnections()).isEqualTo(600);
    assertThat(byDefault.providers().claude().maxWaitQueue()).isEqualTo(600);
    assertThat(byDefault.providers().claude().http2()).isTrue();
    assertThat(byDefault.providers().claude().connectionWaitTimeoutMs()).isEqualTo(300_000);
    assertThat(byDefault.worker().deltaMaxChars()).isEqualTo(1024);
    AppConfig explicit = app(new JsonObject()
        .put("worker", new JsonObject().put("max_concurrent", 600))
        .put("claude", new JsonObject().put("max_connections", 1)));
    assertThat(explicit.providers().claude().maxConnections()).isEqualTo(1);
    assertThat(explicit.providers().claude().maxWaitQueue()).isEqualTo(600);
  }

  @Test
  @DisplayName("bad capacity values stop startup naming the key and its variable")
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> app(new JsonObject().put("claude", new JsonObject().put("max_connections", -1))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("claude.max_connections")
        .hasMessageContaining("CHAT_CLAUDE_MAX_CONNECTIONS");
    assertThatThrownBy(() -> app(new JsonObject().put("claude", new JsonObject()
            .put("connect_timeout_ms", 5000).put("connection_wait_timeout_ms", 4999))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("claude.connection_wait_timeout_ms")
        .hasMessageContaining("claude.connect_timeout_ms");
    assertThat(app(new JsonObject().put("claude", new JsonObject()
            .put("connect_timeout_ms", 5000).put("connection_wait_timeout_ms", 5000)))
        .providers().claude().connectionWaitTimeoutMs()).isEqualTo(5000);
    assertThatThrownBy(() -> app(new JsonObject().put("worker", new JsonObject().put("delta_max_chars", 0))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("worker.delta_max_chars");
    assertThatThrownBy(() -> app(new JsonObject().put("worker", new JsonObject().put("stream_heap_kb", 0))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("worker.stream_heap_kb");
    assertThatThrownBy(() -> app(new JsonObject().put("claude", new JsonObject().put("http2", "yes"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("claude.http2");
  }
}
