package com.aichat.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.YamlConfigBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment examples in {@code conf/} cannot be run here (no Docker engine), so what can be
 * checked is checked: the Hazelcast file loads through Hazelcast's own schema-validating YAML builder,
 * and the compose and Prometheus files parse and agree with each other and with the service's ports,
 * environment variables and metrics path.
 */
class ConfExamplesTest {

  @Test
  @DisplayName("conf/hazelcast-tcp.example.yaml is a valid Hazelcast config with TCP-IP discovery and multicast off")
  void hazelcastExampleLoads() throws IOException {
    Config config;
    try (InputStream in = Files.newInputStream(Path.of("conf/hazelcast-tcp.example.yaml"))) {
      config = new YamlConfigBuilder(in).build();
    }
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).contains("chat-1:5701", "chat-2:5701");
    assertThat(config.getClusterName()).isEqualTo("chat-service");
  }

  @Test
  @DisplayName("conf/compose.example.yaml runs two nodes on a MongoDB replica set, and Prometheus scrapes both")
  @SuppressWarnings("unchecked")
  void composeAndPrometheusExamplesAgree() throws IOException {
    Map<String, Object> compose = new Yaml().load(Files.readString(Path.of("conf/compose.example.yaml")));
    Map<String, Object> services = (Map<String, Object>) compose.get("services");
    assertThat(services).containsKeys("mongo", "chat-1", "chat-2", "prometheus");
    assertThat((List<String>) ((Map<String, Object>) services.get("mongo")).get("command")).contains("--replSet");
    for (String node : List.of("chat-1", "chat-2")) {
      Map<String, Object> svc = (Map<String, Object>) services.get(node);
      Map<String, Object> env = (Map<String, Object>) svc.get("environment");
      assertThat((String) env.get("CHAT_MONGO_CONNECTION_STRING")).contains("replicaSet=");
      assertThat(env).containsEntry("CHAT_CLUSTER_ENABLED", "true").containsEntry("CHAT_CLUSTER_HOST", node);
      assertThat((String) env.get("JAVA_TOOL_OPTIONS")).contains("-Dvertx.hazelcast.config=");
      assertThat((List<String>) svc.get("ports")).anyMatch(p -> p.endsWith(":8080")).anyMatch(p -> p.endsWith(":8081"));
      for (String volume : (List<String>) svc.get("volumes")) {
        Path source = Path.of("conf").resolve(volume.split(":")[0]).normalize();
        assertThat(source).as("mounted file of %s", node).exists();
      }
    }
    Map<String, Object> prom = new Yaml().load(Files.readString(Path.of("conf/prometheus.example.yml")));
    Map<String, Object> job = ((List<Map<String, Object>>) prom.get("scrape_configs")).get(0);
    assertThat(job).containsEntry("metrics_path", "/metrics");
    List<String> targets = (List<String>) ((List<Map<String, Object>>) job.get("static_configs")).get(0).get("targets");
    // /metrics on each node's management port (a public API port does not serve it without metrics.token)
    List<String> expected = List.of("chat-1", "chat-2").stream().map(n -> n + ":"
        + ((Map<String, Object>) ((Map<String, Object>) services.get(n)).get("environment")).get("CHAT_METRICS_PORT")).toList();
    assertThat(targets).containsExactlyInAnyOrderElementsOf(expected).doesNotContain("chat-1:null", "chat-1:8080");
  }
}
