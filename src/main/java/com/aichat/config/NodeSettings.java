package com.aichat.config;

import java.nio.file.Path;

/**
 * {@code node.*}: facts about this node.
 *
 * @param dataDir {@code node.data_dir} (default {@code ./data}): embedded database and the generated
 *     dev JWT secret live here
 * @param publicBaseUrl {@code node.public_base_url} (default {@code http://localhost:8080}): the
 *     externally reachable base URL of the HTTP API (Location headers, Cloud Tasks target)
 * @param reclaimLeases {@code node.reclaim_leases} (default true): on start, take back at once the replies
 *     an earlier incarnation of this node (same data directory) held, instead of waiting out their leases
 */
public record NodeSettings(Path dataDir, String publicBaseUrl, boolean reclaimLeases) {

  public NodeSettings(Path dataDir, String publicBaseUrl) {
    this(dataDir, publicBaseUrl, true);
  }

  public static NodeSettings from(ConfigReader r) {
    String dir = r.string("data_dir", "./data");
    if (dir.isBlank()) {
      throw r.error("data_dir", "must not be empty");
    }
    String base = r.optUrl("public_base_url");
    if (base == null) {
      throw r.error("public_base_url", "is required");
    }
    return new NodeSettings(Path.of(dir), base.replaceAll("/+$", ""), r.bool("reclaim_leases", true));
  }
}
