package com.aichat.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.config.ConfigException;
import com.aichat.config.ConfigReader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link MetricsSetup#boundedTags} and the metrics settings, at their edges. */
class MetricsBoundsTest {

  private static Set<String> values(MeterRegistry r, String tag) {
    return r.find("vertx.http.server.requests").counters().stream()
        .map(c -> c.getId().getTag(tag)).collect(Collectors.toSet());
  }

  private static void hit(MeterRegistry r, String method, String route, String code) {
    Counter.builder("vertx.http.server.requests").tag("method", method).tag("route", route).tag("code", code)
        .register(r).increment();
  }

  @Test
  @DisplayName("metrics.max_tag_values=3: the third distinct route is kept, the fourth is OTHER; made-up methods are OTHER")
  void capAtItsEdge() {
    MeterRegistry r = new SimpleMeterRegistry();
    r.config().meterFilter(MetricsSetup.boundedTags(3));
    hit(r, "GET", "/a", "200");
    hit(r, "BREW", "/b", "200");
    hit(r, "get", "/c", "200");
    assertThat(values(r, "route")).containsExactlyInAnyOrder("/a", "/b", "/c");
    hit(r, "GET", "/d", "200");
    hit(r, "GET", "/a", "200");
    assertThat(values(r, "route")).containsExactlyInAnyOrder("/a", "/b", "/c", "OTHER");
    assertThat(values(r, "method")).containsExactlyInAnyOrder("GET", "OTHER");
    assertThat(r.counter("vertx.http.server.requests", "method", "GET", "route", "/a", "code", "200").count()).isEqualTo(2);
    // other meters are untouched
    r.counter("aichat.tokens", "kind", "BREW").increment();
    assertThat(r.find("aichat.tokens").tag("kind", "BREW").counter()).isNotNull();
  }

  @Test
  @DisplayName("metrics.max_tag_values accepts 10..10000; metrics.token needs 16 characters")
  void settingsAtTheirEdges() {
    assertThat(settings(new JsonObject().put("max_tag_values", 10)).maxTagValues()).isEqualTo(10);
    assertThat(settings(new JsonObject()).maxTagValues()).isEqualTo(100);
    assertThatThrownBy(() -> settings(new JsonObject().put("max_tag_values", 9)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("metrics.max_tag_values").hasMessageContaining("CHAT_METRICS_MAX_TAG_VALUES");
    assertThat(settings(new JsonObject().put("token", "x".repeat(16))).token()).hasSize(16);
    assertThatThrownBy(() -> settings(new JsonObject().put("token", "x".repeat(15))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("metrics.token");
    assertThat(settings(new JsonObject().put("token", "x".repeat(16))).toString()).doesNotContain("xxxx");
    MetricsSettings open = settings(new JsonObject());
    assertThat(open.servedOnApiPort("127.0.0.1")).isTrue();
    assertThat(open.servedOnApiPort("0.0.0.0")).isFalse();
    assertThat(settings(new JsonObject().put("token", "x".repeat(16))).servedOnApiPort("0.0.0.0")).isTrue();
  }

  private static MetricsSettings settings(JsonObject metrics) {
    return MetricsSettings.from(new ConfigReader(metrics, "metrics"), 8080, 8081);
  }
}
