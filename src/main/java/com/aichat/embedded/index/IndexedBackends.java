package com.aichat.embedded.index;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
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
        if (answer == null) {
          answer = countDocuments(this, database, command, query);
        }
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

  /**
   * Answers the driver's {@code countDocuments} pipeline ({@code $match}, optional {@code $skip} and
   * {@code $limit}, then {@code $group} of a constant {@code _id} with {@code {$sum: 1}}) through the
   * collection's planned count, or returns null for any other command. mongo-java-server runs every
   * pipeline over a scan of the whole collection, so counts (the daily quota) would otherwise read
   * every stored message.
   */
  @SuppressWarnings("unchecked")
  public static Document countDocuments(MongoBackend backend, String database, String command, Document query) {
    if (!"aggregate".equalsIgnoreCase(command) || !(query.get("pipeline") instanceof List<?> pipeline)
        || !(query.get(command) instanceof String collectionName)
        || !(backend instanceof de.bwaldvogel.mongo.backend.AbstractMongoBackend b)) {
      return null;
    }
    Document filter = new Document();
    int skip = 0;
    int limit = 0;
    Document group = null;
    for (int i = 0; i < pipeline.size(); i++) {
      if (!(pipeline.get(i) instanceof Document stage) || stage.size() != 1 || group != null) {
        return null;
      }
      Object arg = stage.values().iterator().next();
      switch (stage.keySet().iterator().next()) {
        case "$match" -> {
          if (i != 0 || !(arg instanceof Document d)) {
            return null;
          }
          filter = d;
        }
        case "$skip" -> {
          if (!(arg instanceof Number n) || limit != 0) {
            return null;
          }
          skip = n.intValue();
        }
        case "$limit" -> {
          if (!(arg instanceof Number n)) {
            return null;
          }
          limit = n.intValue();
        }
        case "$group" -> {
          if (!(arg instanceof Document d) || d.size() != 2 || !(d.get("_id") instanceof Number)) {
            return null;
          }
          group = d;
        }
        default -> {
          return null;
        }
      }
    }
    if (group == null) {
      return null;
    }
    String field = null;
    for (String k : group.keySet()) {
      if (!k.equals("_id")) {
        field = k;
      }
    }
    Object sum = group.get(field) instanceof Document acc && acc.size() == 1 ? acc.get("$sum") : null;
    if (!(sum instanceof Number one) || one.intValue() != 1 || field.startsWith("$")) {
      return null;
    }
    MongoDatabase db = b.resolveDatabase(database);
    MongoCollection<?> collection = db.resolveCollection(collectionName, false);
    int count = collection == null ? 0 : collection.count(filter, skip, limit);
    List<Document> batch = count == 0
        ? List.of()
        : List.of(new Document("_id", group.get("_id")).append(field, count));
    Document cursor = new Document("firstBatch", batch).append("id", 0L).append("ns", database + "." + collectionName);
    return new Document("cursor", cursor).append("ok", 1.0);
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
