package com.aichat.embedded.index;

import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;

/** The in-memory backend's database, with {@link SecondaryIndex}es on the heap. */
final class IndexedMemoryDatabase extends MemoryDatabase implements IndexedBackends.PlanLogging {

  // No initializers: the super constructor already calls the overrides below.
  private PlanLog planLog;
  private Document creating;

  IndexedMemoryDatabase(String databaseName, CursorRegistry cursorRegistry) {
    super(databaseName, cursorRegistry);
  }

  @Override
  public synchronized PlanLog planLog() {
    if (planLog == null) {
      planLog = new PlanLog();
    }
    return planLog;
  }

  @Override
  protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
    return new IndexedMemoryCollection(this, collectionName, options, cursorRegistry, planLog());
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
  protected Index<Integer> openOrCreateSecondaryIndex(
      String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
    Document partial = IndexedBackends.partialFilter(
        creating, indexes.get(), getFullCollectionNamespace(collectionName), indexName);
    return new SecondaryIndex<>(indexName, keys, sparse, partial, new MemoryEntryStore<>());
  }
}
