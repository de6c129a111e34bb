package com.aichat.persistence.impl.index;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Objects;
import org.h2.mvstore.MVStore;

/**
 * The entry points of the embedded store's index support: the two backends' databases, and the
 * {@value PlanLog#COMMAND} command.
 *
 * <p>mongo-java-server (1.47) accepts non-unique indexes but ignores them, and uses its unique
 * indexes only for filters that name exactly their fields, so every other query scans the collection.
 * The classes of this package add {@link SecondaryIndex} (compound, sparse and partial; kept in the
 * MVStore for H2, on the heap for memory) and {@link QueryPlanner}, which every query of the indexed
 * collections goes through.
 */
public final class IndexedBackends {

  private IndexedBackends() {}

  /** The in-memory backend with indexes. */
  public static MongoBackend memory() {
    return new MemoryBackend() {
      @Override
      public de.bwaldvogel.mongo.backend.memory.MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new IndexedMemoryDatabase(databaseName, getCursorRegistry());
      }

      @Override
      public Document handleCommand(io.netty.channel.Channel channel, String database, String command, Document query) {
        Document answer = planCommand(this, database, command, query);
        return answer != null ? answer : super.handleCommand(channel, database, command, query);
      }
    };
  }

  /** A database of an H2 backend with indexes, on {@code store}. */
  public static MongoDatabase h2Database(String databaseName, MVStore store, de.bwaldvogel.mongo.backend.CursorRegistry cursors) {
    return IndexedH2Database.open(databaseName, store, cursors);
  }

  /**
   * Answers {@value PlanLog#COMMAND} for {@code database}, or returns null for any other command.
   */
  public static Document planCommand(MongoBackend backend, String database, String command, Document query) {
    if (!PlanLog.COMMAND.equalsIgnoreCase(command)) {
      return null;
    }
    if (!(backend instanceof de.bwaldvogel.mongo.backend.AbstractMongoBackend b)
        || !(b.resolveDatabase(database) instanceof PlanLogging db)) {
      return new Document("ok", 0.0).append("errmsg", "this database does not log query plans");
    }
    return db.planLog().command(query);
  }

  /** A database whose collections record their plans. */
  interface PlanLogging {
    PlanLog planLog();
  }

  /**
   * The {@code partialFilterExpression} of an index: from the description being created now, or else
   * from the stored description (when the database reopens).
   */
  static <P> Document partialFilter(
      Document creating, MongoCollection<P> indexDescriptions, String namespace, String indexName) {
    Document description = null;
    if (creating != null && indexName.equals(creating.get("name"))) {
      description = creating;
    } else if (indexDescriptions != null) {
      for (Document d : indexDescriptions.queryAll()) {
        if (indexName.equals(d.get("name")) && Objects.equals(namespace, String.valueOf(d.get("ns")))) {
          description = d;
          break;
        }
      }
    }
    Object filter = description == null ? null : description.get("partialFilterExpression");
    return filter instanceof Document d ? d : null;
  }
}
