package com.aichat.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code cluster.*}: whether and how this node joins a Vert.x cluster (Hazelcast), and how it is
 * secured.
 *
 * @param enabled {@code cluster.enabled} (default false)
 * @param host {@code cluster.host}: event-bus bind host (and Hazelcast interface, when an IP literal)
 * @param publicHost {@code cluster.public_host}: event-bus host other nodes use to reach this node
 * @param name {@code cluster.name}: Hazelcast cluster name; nodes with another name never join (null:
 *     the Hazelcast configuration's)
 * @param port {@code cluster.port} (default 5701): first Hazelcast member port tried (auto-incremented)
 * @param members {@code cluster.members} (default none): Hazelcast TCP-IP discovery with this member
 *     list ({@code host} or {@code host:port}) instead of multicast
 * @param tls {@code cluster.tls.*}: TLS with mutual authentication on the event bus, or null when off
 */
public record ClusterSettings(
    boolean enabled, String host, String publicHost, String name, int port, List<String> members, Tls tls) {

  /**
   * {@code cluster.tls.*}: every event-bus connection between nodes is TLS, and both ends must present
   * a certificate the trust store accepts (client auth required). Stores are PKCS#12 ({@code .p12},
   * {@code .pfx}) or JKS ({@code .jks}), by {@code cluster.tls.store_type}.
   *
   * @param keyStore {@code cluster.tls.key_store}: this node's key and certificate chain
   * @param keyStorePassword {@code cluster.tls.key_store_password}
   * @param trustStore {@code cluster.tls.trust_store}: the CA (or certificates) a peer must be signed by
   * @param trustStorePassword {@code cluster.tls.trust_store_password}
   * @param storeType {@code cluster.tls.store_type}: {@code pkcs12} (default) or {@code jks}
   */
  public record Tls(
      String keyStore, String keyStorePassword, String trustStore, String trustStorePassword, String storeType) {

    /** Never prints the passwords. */
    @Override
    public String toString() {
      return "Tls[keyStore=" + keyStore + ", trustStore=" + trustStore + ", storeType=" + storeType
          + ", passwords=hidden]";
    }
  }

  public static ClusterSettings from(ConfigReader r) {
    List<String> members = r.stringList("members", List.of()).stream().map(String::trim)
        .filter(m -> !m.isEmpty()).toList();
    for (String m : members) {
      if (!m.matches("[A-Za-z0-9.\\-\\[\\]:]+")) {
        throw r.error("members", "must list host or host:port entries but has '" + m + "'");
      }
    }
    return new ClusterSettings(
        r.bool("enabled", false),
        r.optString("host"),
        r.optString("public_host"),
        r.optString("name"),
        r.intValue("port", 5701, 1, 65535),
        members,
        tls(r.section("tls")));
  }

  private static Tls tls(ConfigReader t) {
    if (!t.bool("enabled", false)) {
      return null;
    }
    String type = t.oneOf("store_type", "pkcs12", Set.of("pkcs12", "jks")).toLowerCase(Locale.ROOT);
    return new Tls(
        readableFile(t, "key_store"),
        t.string("key_store_password", ""),
        readableFile(t, "trust_store"),
        t.string("trust_store_password", ""),
        type);
  }

  private static String readableFile(ConfigReader t, String k) {
    String path = t.optString(k);
    if (path == null) {
      throw t.error(k, "is required when cluster.tls.enabled is true");
    }
    if (!Files.isReadable(Path.of(path))) {
      throw t.error(k, "must be a readable file but was '" + path + "'");
    }
    return path;
  }
}
