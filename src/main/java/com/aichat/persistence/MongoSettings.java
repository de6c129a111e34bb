package com.aichat.persistence;

import com.aichat.config.ConfigReader;
import java.util.Set;

/**
 * {@code mongo.*}.
 *
 * @param connectionString {@code mongo.connection_string}: a real MongoDB; null (the default) starts
 *     the embedded MongoDB-wire server persisting under {@code node.data_dir}
 * @param database {@code mongo.database} (default {@code chat})
 * @param embeddedBackend {@code mongo.embedded_backend}: {@code h2} (on disk, default) or
 *     {@code memory} (tests)
 * @param embeddedPort {@code mongo.embedded_port}: port of the embedded server on 127.0.0.1; 0 picks a
 *     free one
 * @param serverSelectionTimeoutMs {@code mongo.server_selection_timeout_ms} (default 5000): how long a
 *     request waits for an unreachable database before failing {@code UNAVAILABLE}
 */
public record MongoSettings(
    String connectionString,
    String database,
    String embeddedBackend,
    int embeddedPort,
    long serverSelectionTimeoutMs) {

  /** Never prints the connection string: it may carry a password. */
  @Override
  public String toString() {
    return "MongoSettings[connectionString=" + (connectionString == null ? "embedded" : "set")
        + ", database=" + database + ", embeddedBackend=" + embeddedBackend
        + ", embeddedPort=" + embeddedPort + ", serverSelectionTimeoutMs=" + serverSelectionTimeoutMs + "]";
  }

  public boolean embedded() {
    return connectionString == null;
  }

  public static MongoSettings from(ConfigReader r) {
    String cs = r.optString("connection_string");
    if (cs != null && !(cs.startsWith("mongodb://") || cs.startsWith("mongodb+srv://"))) {
      throw r.error("connection_string", "must start with mongodb:// or mongodb+srv://");
    }
    String db = r.string("database", "chat");
    if (db.isBlank() || !db.matches("[A-Za-z0-9_-]{1,63}")) {
      throw r.error("database", "must be 1-63 letters, digits, '_' or '-'");
    }
    return new MongoSettings(
        cs,
        db,
        r.oneOf("embedded_backend", "h2", Set.of("h2", "memory")),
        r.intValue("embedded_port", 0, 0, 65535),
        r.longValue("server_selection_timeout_ms", 5000, 100, 600_000));
  }
}
