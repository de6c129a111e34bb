package com.aichat.embedded.index;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.bson.Document;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** The in-memory backend's collection, with queries planned over its indexes ({@link QueryPlanner}). */
final class IndexedMemoryCollection extends MemoryCollection implements IndexedQueries.Access<Integer> {

  private final PlanLog planLog;

  IndexedMemoryCollection(MongoDatabase database, String name, CollectionOptions options,
      CursorRegistry cursors, PlanLog planLog) {
    super(database, name, options, cursors);
    this.planLog = planLog;
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
  public List<Index<Integer>> indexes() {
    return getIndexes();
  }

  @Override
  public Document document(Integer position) {
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
  public Stream<Map.Entry<Integer, Document>> allDocuments() {
    return streamAllDocumentsWithPosition().map(d -> Map.entry(d.getPosition(), d.getDocument()));
  }

  @Override
  public PlanLog planLog() {
    return planLog;
  }
}
