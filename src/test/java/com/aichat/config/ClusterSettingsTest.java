package com.aichat.config;

import com.aichat.AppConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.aichat.testing.TestApp;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 10 finding 4: {@code cluster.*} validation, the options built from it, and the startup warnings. */
class ClusterSettingsTest {

  @TempDir Path dir;

  private static ClusterSettings cluster(JsonObject cluster) {
    return AppConfig.from(TestApp.defaults().mergeIn(new JsonObject().put("cluster", cluster), true))
        .deployment().cluster();
  }

  private JsonObject tls() throws Exception {
    Path ks = Files.writeString(dir.resolve("node.p12"), "x");
    Path ts = Files.writeString(dir.resolve("ca.p12"), "x");
    return new JsonObject().put("enabled", true).put("key_store", ks.toString())
        .put("key_store_password", "k-secret-pw").put("trust_store", ts.toString())
        .put("trust_store_password", "t-secret-pw");
  }

  @Test
  @DisplayName("Clustering without event-bus TLS or a member list is warned about at startup; a secured cluster is not")
  void insecureClusterIsWarned() throws Exception {
    assertThat(ClusterSetup.warnings(cluster(new JsonObject()))).isEmpty();
    assertThat(ClusterSetup.warnings(cluster(new JsonObject().put("enabled", true))))
        .hasSize(2)
        .anySatisfy(w -> assertThat(w).contains("cluster.tls.enabled is false").contains("chat.persistence"))
        .anySatisfy(w -> assertThat(w).contains("cluster.members is empty").contains("multicast"));
    ClusterSettings secured = cluster(new JsonObject().put("enabled", true)
        .put("members", new JsonArray().add("10.0.0.1").add("10.0.0.2:5701")).put("tls", tls()));
    assertThat(ClusterSetup.warnings(secured)).isEmpty();
  }

  @Test
  @DisplayName("cluster.tls needs readable key and trust stores; passwords never appear in the text form")
  void tlsValidation() throws Exception {
    assertThatThrownBy(() -> cluster(new JsonObject().put("tls", new JsonObject().put("enabled", true))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.tls.key_store")
        .hasMessageContaining("CHAT_CLUSTER_TLS_KEY_STORE");
    assertThatThrownBy(() -> cluster(new JsonObject().put("tls", tls().put("trust_store", dir.resolve("missing.p12").toString()))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.tls.trust_store").hasMessageContaining("readable");
    assertThatThrownBy(() -> cluster(new JsonObject().put("tls", tls().put("store_type", "pem"))))
        .hasMessageContaining("cluster.tls.store_type");
    assertThatThrownBy(() -> cluster(new JsonObject().put("members", new JsonArray().add("10.0.0.1; rm -rf"))))
        .hasMessageContaining("cluster.members");
    ClusterSettings c = cluster(new JsonObject().put("enabled", true).put("tls", tls()));
    assertThat(c.toString()).doesNotContain("k-secret-pw").doesNotContain("t-secret-pw");
    assertThat(cluster(new JsonObject()).tls()).isNull();
  }

  @Test
  @DisplayName("TLS becomes event-bus SSL with both stores and client auth REQUIRED; members become TCP-IP join without multicast")
  void optionsFromSettings() throws Exception {
    ClusterSettings c = cluster(new JsonObject().put("enabled", true).put("host", "127.0.0.1")
        .put("name", "chat-x").put("port", 5801)
        .put("members", new JsonArray().add("127.0.0.1:5801").add("127.0.0.1:5802")).put("tls", tls()));
    VertxOptions vo = ClusterSetup.vertxOptions(c);
    assertThat(vo.getEventBusOptions().isSsl()).isTrue();
    assertThat(vo.getEventBusOptions().getClientAuth()).isEqualTo(ClientAuth.REQUIRED);
    assertThat(vo.getEventBusOptions().getHost()).isEqualTo("127.0.0.1");
    assertThat(((PfxOptions) vo.getEventBusOptions().getKeyCertOptions()).getPath()).endsWith("node.p12");
    assertThat(((PfxOptions) vo.getEventBusOptions().getTrustOptions()).getPath()).endsWith("ca.p12");
    assertThat(vo.getEventBusOptions().isTrustAll()).isFalse();
    Config hz = ClusterSetup.hazelcastConfig(c);
    JoinConfig join = hz.getNetworkConfig().getJoin();
    assertThat(hz.getClusterName()).isEqualTo("chat-x");
    assertThat(hz.getNetworkConfig().getPort()).isEqualTo(5801);
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("127.0.0.1:5801", "127.0.0.1:5802");
    // without members the Hazelcast configuration's own join (multicast by default) is kept
    Config plain = ClusterSetup.hazelcastConfig(cluster(new JsonObject().put("enabled", true)));
    assertThat(plain.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled()).isFalse();
    assertThat(ClusterSetup.vertxOptions(cluster(new JsonObject().put("enabled", true))).getEventBusOptions().isSsl()).isFalse();
  }
}
