package com.aichat.embedded;

import com.aichat.embedded.index.IndexedBackends;
import com.aichat.embedded.index.PlanLog;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVStore;

/**
 * The H2 (MVStore) backend of mongo-java-server, made durable: a command that may change data is
 * answered only after its changes are committed to the MVStore file and the file is fsynced.
 *
 * <p>Why: the stock backend only writes the MVStore every second or so from a background thread, so an
 * abrupt halt loses acknowledged writes (33 of 1,000 measured, docs/architecture.md §9). Every wire command
 * reaches {@link #handleCommand}, which runs on the server's Netty worker thread, so blocking here
 * delays only that client's reply, never Vert.x.
 *
 * <p>Commits are grouped: each write takes a ticket after its in-memory change is done; the thread
 * that gets the sync lock commits and fsyncs everything done so far, and writers whose ticket is
 * already covered return without another fsync.
 *
 * <p>A commit never captures half of a write: writes run under the shared side of {@link #commitLock}
 * and the commit takes its exclusive side, so a document and its index entries (kept in the same
 * MVStore, see {@link IndexedBackends}) are always committed together. The store is opened with
 * auto-commit off ({@link EmbeddedMongo}) for the same reason.
 */
final class DurableH2Backend extends H2Backend {

  /** Commands that never change data; everything else is treated as a write. */
  private static final Set<String> READ_ONLY_COMMANDS =
      Set.of(
          "find", "getmore", "count", "distinct", "listcollections", "listindexes",
          "listdatabases", "ping", "ismaster", "hello", "buildinfo", "whatsmyuri", "serverstatus",
          "killcursors", "endsessions", "getlasterror", "dbstats", "collstats", "connectionstatus",
          "getparameter", "getcmdlineopts", "hostinfo", "getlog", "getfreemonitoringstatus",
          "currentop", "explain", PlanLog.COMMAND.toLowerCase(Locale.ROOT));

  private final MVStore store;
  private final AtomicLong writesDone = new AtomicLong();
  private final Object syncLock = new Object();
  private final ReadWriteLock commitLock = new ReentrantReadWriteLock();
  private long durableUpTo; // guarded by syncLock
  private final AtomicLong syncs = new AtomicLong();

  /**
   * How long old chunks are kept before their space is reused. H2's default (45 s) assumes the OS
   * flushes write buffers within that time; every commit here is fsynced, so a short retention is
   * safe and bounds the file's growth (each commit writes a new chunk whose space is reused only
   * after the retention time; measured after 5,000 writes at ~500/s: 136 MB with 45 s, 56 MB with
   * 2 s). It must still outlast the longest read of a snapshot (a full scan takes milliseconds).
   */
  static final int RETENTION_MS = 2_000;

  /** Time the store may spend compacting its file when it is closed. */
  static final int CLOSE_COMPACTION_MS = 2_000;

  DurableH2Backend(MVStore store) {
    super(store);
    this.store = store;
    store.setRetentionTime(RETENTION_MS);
  }

  @Override
  public void close() {
    synchronized (syncLock) {
      store.commit();
      store.compactFile(CLOSE_COMPACTION_MS);
    }
    super.close();
  }

  @Override
  protected MongoDatabase openOrCreateDatabase(String databaseName) {
    // Called from H2Backend's constructor too (stored databases), before this class's fields are set.
    return IndexedBackends.h2Database(databaseName, getMvStore(), getCursorRegistry());
  }

  @Override
  public Document handleCommand(Channel channel, String database, String command, Document query) {
    Document plans = IndexedBackends.planCommand(this, database, command, query);
    if (plans != null) {
      return plans;
    }
    Document count = IndexedBackends.countDocuments(this, database, command, query);
    if (count != null) {
      return count;
    }
    if (READ_ONLY_COMMANDS.contains(command.toLowerCase(Locale.ROOT))) {
      return super.handleCommand(channel, database, command, query);
    }
    commitLock.readLock().lock();
    try {
      return super.handleCommand(channel, database, command, query);
    } finally {
      commitLock.readLock().unlock();
      // Also after a failed command: an ordered batch may have applied part of its writes.
      makeDurable();
    }
  }

  /** Number of fsyncs done so far (group commit makes it smaller than the number of writes). */
  long syncCount() {
    return syncs.get();
  }

  private void makeDurable() {
    long ticket = writesDone.incrementAndGet();
    synchronized (syncLock) {
      if (durableUpTo >= ticket) {
        return;
      }
      long target;
      commitLock.writeLock().lock();
      try {
        target = writesDone.get();
        store.commit();
      } finally {
        commitLock.writeLock().unlock();
      }
      FileStore<?> fileStore = store.getFileStore();
      if (fileStore != null) {
        // The background writer may have handed our changes to its asynchronous pipeline just before
        // commit() found nothing left to store; this waits for that pipeline, then fsyncs.
        fileStore.executeFileStoreOperation(fileStore::sync);
      }
      syncs.incrementAndGet();
      durableUpTo = target;
    }
  }
}
