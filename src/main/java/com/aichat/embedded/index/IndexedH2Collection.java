package com.aichat.embedded.index;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import org.h2.mvstore.MVMap;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The H2 backend's collection, with queries planned over its indexes ({@link QueryPlanner}). */
final class IndexedH2Collection extends H2Collection implements IndexedQueries.Access<Object> {

  /** Meta-map key marking an index whose entries are complete, so reopening the store never rebuilds it. */
  private static final String BUILT = "indexBuilt:";

  private final PlanLog planLog;
  private final MVMap<String, Object> meta;

  IndexedH2Collection(MongoDatabase database, String name, CollectionOptions options,
      MVMap<Object, Document> data, MVMap<String, Object> meta, CursorRegistry cursors, PlanLog planLog) {
    super(database, name, options, data, meta, cursors);
    this.planLog = planLog;
    this.meta = meta;
  }

  /**
   * mongo-java-server builds an index from every document whenever the index is empty when it is
   * added, and it adds every stored index again each time the store opens: an index that is empty
   * because no document has its (sparse) field was rebuilt by two full scans at every start (measured:
   * 45 s with 1,000,000 messages). An index built once is marked in the collection's meta map, in
   * the same commits as its entries, and is attached as it is from then on.
   */
  @Override
  public synchronized void addIndex(Index<Object> index) {
    boolean attached = getIndexes().stream().anyMatch(i -> i.getName().equals(index.getName()));
    if (!attached && Boolean.TRUE.equals(meta.get(BUILT + index.getName()))) {
      getIndexes().add(index);
      return;
    }
    super.addIndex(index);
    meta.put(BUILT + index.getName(), Boolean.TRUE);
  }

  @Override
  public synchronized void dropIndex(String indexName) {
    super.dropIndex(indexName);
    meta.remove(BUILT + indexName);
  }

  @Override
  protected QueryResult queryDocuments(
      Document query, Document orderBy, int skip, int limit, int batchSize, Document fieldSelector) {
    return IndexedQueries.query(this, query, orderBy, skip, limit, batchSize, fieldSelector);
  }

  @Override
  public synchronized int count(Document query, int skip, int limit) {
    return super.count(query, skip, limit);
  }

  @Override
  public synchronized Document validate() {
    return IndexedQueries.validate(this, super.validate());
  }

  // ---- IndexedQueries.Access ----

  @Override
  public String fullName() {
    return getFullName();
  }

  @Override
  public List<Index<Object>> indexes() {
    return getIndexes();
  }

  @Override
  public Document document(Object position) {
    return getDocument(position);
  }

  @Override
  public long size() {
    return count();
  }

  @Override
  public QueryResult scan(Document query, Document orderBy, int skip, int limit, int batchSize, Document fields) {
    return super.queryDocuments(query, orderBy, skip, limit, batchSize, fields);
  }

  @Override
  public QueryResult match(Document query, Stream<Document> candidates, int skip, int limit, int batchSize,
      Comparator<Document> comparator, Document fields) {
    return matchDocumentsFromStream(query, candidates, skip, limit, batchSize, comparator, fields);
  }

  @Override
  public Comparator<Document> comparator(Document orderBy) {
    return deriveComparator(orderBy);
  }

  @Override
  public Stream<Map.Entry<Object, Document>> allDocuments() {
    return streamAllDocumentsWithPosition().map(d -> Map.entry(d.getPosition(), d.getDocument()));
  }

  @Override
  public PlanLog planLog() {
    return planLog;
  }
}
