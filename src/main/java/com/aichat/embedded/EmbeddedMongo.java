package com.aichat.embedded;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import com.aichat.embedded.index.IndexedBackends;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MongoDB-wire server (mongo-java-server) used when no {@code mongo.connection_string}
 * is configured. It listens on 127.0.0.1 only, and has no authentication: any process on this host
 * can connect to its port. The data directory is made {@code 0700} and {@code mongo.mv} {@code 0600}
 * (where the file system has POSIX permissions), so other local users cannot read the store file.
 *
 * <ul>
 *   <li>{@code h2} backend: one MVStore file, {@code <node.data_dir>/mongo.mv}, written durably
 *       (see {@link DurableH2Backend}): a write is acknowledged only once it is fsynced.
 *   <li>{@code memory} backend: nothing is kept (tests).
 * </ul>
 *
 * Both methods block (file I/O, socket bind): call them from a worker thread.
 */
public final class EmbeddedMongo {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedMongo.class);

  /** Permissions of the data directory: {@code rwx------}. */
  static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

  /** Permissions of the store file: {@code rw-------}. */
  static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");

  /** File name of the H2 store inside the data directory. */
  public static final String STORE_FILE = "mongo.mv";

  private final MongoServer server;
  private final String connectionString;
  private final String description;

  private EmbeddedMongo(MongoServer server, String connectionString, String description) {
    this.server = server;
    this.connectionString = connectionString;
    this.description = description;
  }

  /**
   * Opens the backend and binds the server.
   *
   * @param backend {@code h2} or {@code memory}
   * @param dataDir where the {@code h2} store lives (created if missing)
   * @param port port on 127.0.0.1, 0 for a free one
   * @throws IllegalStateException when the store cannot be opened (e.g. another process holds it)
   */
  public static EmbeddedMongo start(String backend, Path dataDir, int port) {
    MongoBackend mongoBackend;
    String description;
    if ("memory".equals(backend)) {
      mongoBackend = IndexedBackends.memory();
      description = "in-memory";
    } else {
      Path file = dataDir.resolve(STORE_FILE).toAbsolutePath();
      mongoBackend = new DurableH2Backend(openStore(file));
      description = file.toString();
    }
    MongoServer server = new MongoServer(mongoBackend);
    try {
      server.bind("127.0.0.1", port);
    } catch (RuntimeException e) {
      mongoBackend.close();
      throw new IllegalStateException("embedded MongoDB cannot listen on 127.0.0.1:" + port, e);
    }
    InetSocketAddress addr = server.getLocalAddress();
    String cs = "mongodb://127.0.0.1:" + addr.getPort();
    log.info("embedded MongoDB ({}) listening on 127.0.0.1:{}", description, addr.getPort());
    return new EmbeddedMongo(server, cs, description);
  }

  private static MVStore openStore(Path file) {
    try {
      Files.createDirectories(file.getParent());
      // The store holds every user's chats and the embedded server has no authentication of its own:
      // only this OS user may read the directory and the file.
      restrict(file.getParent(), OWNER_ONLY_DIR);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + file.getParent(), e);
    }
    MVStore store;
    try {
      // No background auto-commit: DurableH2Backend commits after every write, and only between writes.
      store = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    } catch (MVStoreException e) {
      throw new IllegalStateException(
          "cannot open embedded database " + file + " (is another instance using this data dir?)", e);
    }
    try {
      restrict(file, OWNER_ONLY_FILE);
    } catch (IOException e) {
      store.closeImmediately();
      throw new UncheckedIOException("cannot make " + file + " owner-only", e);
    }
    return store;
  }

  /** Sets POSIX permissions; on a file system without them (Windows) nothing is changed. */
  static void restrict(Path path, Set<PosixFilePermission> perms) throws IOException {
    if (Files.getFileAttributeView(path, PosixFileAttributeView.class) == null) {
      log.debug("{} has no POSIX permissions; left as is", path);
      return;
    }
    Files.setPosixFilePermissions(path, perms);
  }

  /** {@code mongodb://127.0.0.1:<port>}. */
  public String connectionString() {
    return connectionString;
  }

  /** The store file, or {@code in-memory}. */
  public String description() {
    return description;
  }

  /** Closes client connections, stops listening and closes the store (a final commit). */
  public void stop() {
    server.shutdownNow();
    log.info("embedded MongoDB ({}) stopped", description);
  }
}
