package com.aichat.embedded.index;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * The H2 backend's database, with {@link SecondaryIndex}es kept in the MVStore beside the documents
 * (map {@code <db>.<collection>._index_<name>}, the name scheme of mongo-java-server's own indexes, so
 * dropping an index or collection removes it). A store written before this class existed has the index
 * definitions but no entries: such an index is built from the documents when the store opens.
 */
final class IndexedH2Database extends H2Database implements IndexedBackends.PlanLogging {

  /**
   * Hands the store to the overrides that {@link H2Database}'s constructor calls before this class's
   * fields are assigned (it opens the stored collections and indexes).
   */
  private static final ThreadLocal<MVStore> OPENING = new ThreadLocal<>();

  private MVStore store;
  private PlanLog planLog;
  private Document creating;

  static IndexedH2Database open(String databaseName, MVStore store, CursorRegistry cursors) {
    OPENING.set(store);
    try {
      IndexedH2Database db = new IndexedH2Database(databaseName, store, cursors);
      db.store = store;
      return db;
    } finally {
      OPENING.remove();
    }
  }

  private IndexedH2Database(String databaseName, MVStore store, CursorRegistry cursors) {
    super(databaseName, store, cursors);
  }

  private MVStore store() {
    return store != null ? store : OPENING.get();
  }

  @Override
  public synchronized PlanLog planLog() {
    if (planLog == null) {
      planLog = new PlanLog();
    }
    return planLog;
  }

  @Override
  protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
    String fullName = getFullCollectionNamespace(collectionName);
    MVMap<Object, Document> data = store().openMap("databases." + fullName);
    MVMap<String, Object> meta = store().openMap("meta." + fullName);
    return new IndexedH2Collection(this, collectionName, options, data, meta, cursorRegistry, planLog());
  }

  @Override
  protected synchronized void addIndex(Document indexDescription) {
    creating = indexDescription;
    try {
      super.addIndex(indexDescription);
    } finally {
      creating = null;
    }
  }

  @Override
  protected Index<Object> openOrCreateSecondaryIndex(
      String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
    String namespace = getFullCollectionNamespace(collectionName);
    Document partial = IndexedBackends.partialFilter(creating, indexes.get(), namespace, indexName);
    return new SecondaryIndex<>(indexName, keys, sparse, partial,
        new MvStoreEntryStore(store(), namespace + "._index_" + indexName));
  }
}
