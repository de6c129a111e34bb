package com.aichat.embedded.index;

import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the two indexed collections ({@link IndexedMemoryCollection}, {@link IndexedH2Collection})
 * share: running a query through {@link QueryPlanner}, recording it in the {@link PlanLog}, and
 * checking secondary indexes against the documents for {@code validate}.
 */
final class IndexedQueries {

  private IndexedQueries() {}

  /** The collection operations a query needs (protected in mongo-java-server, bridged by each collection). */
  interface Access<P> {
    String fullName();

    List<Index<P>> indexes();

    Document document(P position);

    long size();

    QueryResult scan(Document query, Document orderBy, int skip, int limit, int batchSize, Document fieldSelector);

    QueryResult match(Document query, Stream<Document> candidates, int skip, int limit, int batchSize,
        Comparator<Document> comparator, Document fieldSelector);

    Comparator<Document> comparator(Document orderBy);

    Stream<Map.Entry<P, Document>> allDocuments();

    PlanLog planLog();
  }

  static <P> QueryResult query(
      Access<P> c, Document query, Document orderBy, int skip, int limit, int batchSize, Document fieldSelector) {
    QueryPlanner.Plan plan = QueryPlanner.plan(c.indexes(), query, orderBy, skip, limit, c::document);
    PlanLog log = c.planLog();
    if (plan == null) {
      QueryResult result = c.scan(query, orderBy, skip, limit, batchSize, fieldSelector);
      if (log.enabled()) {
        log.record(c.fullName(), query, orderBy, "COLLSCAN", 0, c.size());
      }
      return result;
    }
    Comparator<Document> comparator = plan.sortProvided() ? null : c.comparator(orderBy);
    QueryResult result = c.match(query, plan.candidates(), skip, limit, batchSize, comparator, fieldSelector);
    if (log.enabled()) {
      log.record(c.fullName(), query, orderBy, plan.description(),
          plan.counters().keysExamined, plan.counters().docsExamined);
    }
    return result;
  }

  /** Adds each secondary index's consistency problems to a {@code validate} response. */
  static <P> Document validate(Access<P> c, Document response) {
    List<String> errors = new ArrayList<>();
    for (Index<P> index : c.indexes()) {
      if (index instanceof SecondaryIndex<P> secondary) {
        for (String problem : secondary.verify(() -> c.allDocuments().iterator(), 20)) {
          errors.add(index.getName() + ": " + problem);
        }
      }
    }
    if (!errors.isEmpty()) {
      response.put("valid", Boolean.FALSE);
      response.put("errors", errors);
    }
    return response;
  }
}
