package com.aichat.config;

/**
 * {@code verticles.*} and {@code cluster.*}: which verticles this node runs and how many instances of
 * each (0 = not on this node), and whether the node joins a Vert.x cluster (Hazelcast); {@link
 * ClusterSettings} has the whole {@code cluster.*} section (discovery and event-bus TLS).
 */
public record DeploymentSettings(
    int persistence,
    int api,
    int dispatcher,
    int worker,
    int gateway,
    boolean clustered,
    String clusterHost,
    String clusterPublicHost,
    ClusterSettings cluster) {

  public static DeploymentSettings from(ConfigReader verticles, ConfigReader cluster) {
    ClusterSettings c = ClusterSettings.from(cluster);
    return new DeploymentSettings(
        verticles.intValue("persistence", 1, 0, 1),
        verticles.intValue("api", 2, 0, 64),
        verticles.intValue("dispatcher", 1, 0, 16),
        verticles.intValue("worker", 2, 0, 64),
        verticles.intValue("gateway", 1, 0, 1),
        c.enabled(),
        c.host(),
        c.publicHost(),
        c);
  }
}
