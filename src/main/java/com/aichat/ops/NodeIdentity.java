package com.aichat.ops;

import com.aichat.config.ConfigException;
import com.aichat.contract.Addresses;
import com.aichat.contract.DispatchRequest;
import com.aichat.contract.LeaseOwners;
import com.aichat.persistence.Recovery;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who this node is across restarts, kept in its data directory, so a restarted node takes back at once
 * the replies its earlier incarnation held instead of waiting out their leases ({@code worker.lease_ms}).
 *
 * <p><b>One process per data directory.</b> The node holds an exclusive OS file lock on
 * {@code <node.data_dir>/}{@value #LOCK_FILE} for as long as it runs (the OS drops it when the process
 * dies, {@code kill -9} included). A second process started on the same directory, while the first
 * still runs, refuses to start: it would otherwise take the leases of a live node for its own earlier
 * incarnation's. (The embedded {@code h2} store's file is locked too, but only on a node that runs it;
 * this lock holds for every role and for a real MongoDB.)
 *
 * <p><b>Identity and incarnation.</b> {@code <node.data_dir>/}{@value #FILE} holds a random node id,
 * a start counter (the incarnation) and the lease-owner node names ({@link LeaseOwners}) of earlier
 * incarnations whose leases were not taken back yet. Every start increments the counter and records
 * its own name there before any worker claims a reply. The name is the Vert.x cluster node id on a
 * clustered node (new on every start), and {@code <id>.<incarnation>} otherwise.
 *
 * <p><b>Taking back.</b> Once the node's verticles are deployed, {@link #reclaim} ends the leases whose
 * owner starts with an earlier name ({@link Recovery#expireLeasesOf}) and dispatches those replies
 * again; they start now, not when their 30 s lease runs out. A name is forgotten once its leases were
 * ended. Ending a lease is a conditional write: when a cluster's dispatchers end the same leases because
 * Hazelcast reported the earlier member gone, each reply is ended, and so dispatched again, by one of
 * them only, and claimed once.
 */
public final class NodeIdentity {

  private static final Logger log = LoggerFactory.getLogger(NodeIdentity.class);

  /** The identity file in the data directory. */
  public static final String FILE = "node-identity.json";

  /** The lock file in the data directory. */
  public static final String LOCK_FILE = "node.lock";

  /** Earlier names kept at most (a node that keeps crashing before it takes back anything). */
  static final int MAX_EARLIER = 32;

  private static final long DISPATCH_TIMEOUT_MS = 10_000;

  private static final Map<Vertx, NodeIdentity> BY_VERTX = new ConcurrentHashMap<>();

  private final Path dataDir;
  private final String id;
  private final long incarnation;
  private final String leaseNode;
  private final List<String> earlier;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private NodeIdentity(Path dataDir, String id, long incarnation, String leaseNode, List<String> earlier,
      FileChannel lockChannel, FileLock lock) {
    this.dataDir = dataDir;
    this.id = id;
    this.incarnation = incarnation;
    this.leaseNode = leaseNode;
    this.earlier = earlier;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  public String id() {
    return id;
  }

  public long incarnation() {
    return incarnation;
  }

  /** The node part of this incarnation's lease owners. */
  public String leaseNode() {
    return leaseNode;
  }

  /** Lease-owner names of earlier incarnations whose leases were not taken back (yet). */
  public List<String> earlier() {
    return earlier;
  }

  /** The identity {@code vertx}'s node runs under; null before {@link #acquire}. */
  public static NodeIdentity of(Vertx vertx) {
    return BY_VERTX.get(vertx);
  }

  /**
   * Locks {@code dataDir} for {@code vertx}'s node, reads and advances its identity, and names the
   * node's lease owners after it (until {@code vertx} closes, which releases the lock). Starting a node
   * on a Vert.x instance that has one already answers that one. Fails with a {@link ConfigException}
   * when another node holds the directory.
   */
  public static Future<NodeIdentity> acquire(Vertx vertx, Path dataDir) {
    NodeIdentity known = BY_VERTX.get(vertx);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    String clusterNode = vertx.isClustered() ? LeaseOwners.nodeId(vertx) : null;
    return vertx.executeBlocking(() -> open(dataDir, clusterNode)).compose(identity -> {
      if (BY_VERTX.putIfAbsent(vertx, identity) != null) {
        identity.release();
        return Future.succeededFuture(BY_VERTX.get(vertx));
      }
      if (clusterNode == null) {
        LeaseOwners.nameLocalNode(vertx, identity.leaseNode);
      }
      if (vertx instanceof VertxInternal internal) {
        internal.addCloseHook(completion -> {
          BY_VERTX.remove(vertx, identity);
          identity.release();
          completion.succeed();
        });
      }
      log.info("node {} incarnation {} (lease owner {}{}) holds data directory {}", identity.id,
          identity.incarnation, LeaseOwners.nodePrefix(identity.leaseNode),
          identity.earlier.isEmpty() ? "" : "; earlier incarnations to take back: " + identity.earlier, dataDir);
      return Future.succeededFuture(identity);
    });
  }

  private static NodeIdentity open(Path dataDir, String clusterNode) throws IOException {
    Files.createDirectories(dataDir);
    FileChannel channel = FileChannel.open(dataDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new ConfigException("data directory " + dataDir.toAbsolutePath() + " is in use by another running node"
          + " (it holds " + LOCK_FILE + "); one process per node.data_dir");
    }
    try {
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      Path file = dataDir.resolve(FILE);
      JsonObject stored = Files.exists(file) ? new JsonObject(Files.readString(file)) : new JsonObject();
      String id = stored.getString("id", UUID.randomUUID().toString());
      long incarnation = stored.getLong("incarnation", 0L) + 1;
      List<String> earlier = new ArrayList<>();
      stored.getJsonArray("leaseNodes", new JsonArray()).forEach(n -> earlier.add(String.valueOf(n)));
      while (earlier.size() > MAX_EARLIER) {
        earlier.remove(0);
      }
      String leaseNode = clusterNode != null ? clusterNode : id + "." + incarnation;
      List<String> recorded = new ArrayList<>(earlier);
      recorded.add(leaseNode);
      write(file, id, incarnation, recorded);
      return new NodeIdentity(dataDir, id, incarnation, leaseNode, List.copyOf(earlier), channel, lock);
    } catch (IOException | RuntimeException e) {
      lock.release();
      channel.close();
      throw e;
    }
  }

  /** Written to a temporary file, forced to disk and moved over the old one: never half a file. */
  private static void write(Path file, String id, long incarnation, List<String> leaseNodes) throws IOException {
    Path tmp = file.resolveSibling(FILE + ".tmp");
    byte[] bytes = new JsonObject().put("id", id).put("incarnation", incarnation)
        .put("leaseNodes", new JsonArray(new ArrayList<>(leaseNodes))).encodePrettily()
        .getBytes(StandardCharsets.UTF_8);
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      out.write(ByteBuffer.wrap(bytes));
      out.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Ends the leases the earlier incarnations held and dispatches those replies again; then forgets
   * those names. Never fails: what is not taken back now runs out with its lease and the recovery sweep
   * finds it.
   */
  public Future<Integer> reclaim(Vertx vertx, Recovery store) {
    if (earlier.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Future<List<String>>> ended = earlier.stream()
        .map(name -> store.expireLeasesOf(LeaseOwners.nodePrefix(name)))
        .toList();
    return Future.all(ended)
        .compose(all -> {
          List<String> ids = new ArrayList<>();
          all.<List<String>>list().forEach(ids::addAll);
          ids.forEach(messageId -> vertx.eventBus()
              .request(Addresses.DISPATCH, new DispatchRequest(messageId, null, null).toJson(),
                  new DeliveryOptions().setSendTimeout(DISPATCH_TIMEOUT_MS))
              .onFailure(err -> log.warn("reply {} taken back from an earlier incarnation but not dispatched now"
                  + " ({}); the recovery sweep will", messageId, err.getMessage())));
          log.info("took back {} replies that earlier incarnations of node {} held ({}); dispatched again",
              ids.size(), id, earlier);
          return vertx.executeBlocking(() -> {
            write(dataDir.resolve(FILE), id, incarnation, List.of(leaseNode));
            return ids.size();
          });
        })
        .recover(err -> {
          log.warn("could not take back the replies of earlier incarnations of node {} ({}); they restart when"
              + " their leases run out", id, err.getMessage());
          return Future.succeededFuture(0);
        });
  }

  private void release() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("releasing the lock on {} failed: {}", dataDir, e.toString());
    }
  }
}
