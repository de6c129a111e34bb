package com.aichat.embedded.index;

import de.bwaldvogel.mongo.bson.Document;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the embedded server's planner did, per query shape (collection, filter with its values
 * replaced by {@code ?}, sort fields): the plan, how often, and the most keys and documents one query
 * examined. Off by default; the command {@code {embeddedQueryPlans: 1, enable: true|false, reset: true}}
 * turns it on and reads it (see {@link IndexedBackends#planCommand}). Tests use it to check that every
 * query the service sends is served by an index.
 */
public final class PlanLog {

  /** Name of the command that reads and controls the log. */
  public static final String COMMAND = "embeddedQueryPlans";

  private volatile boolean enabled;
  private final Map<String, Shape> shapes = new ConcurrentHashMap<>();

  private static final class Shape {
    final String ns;
    final String filter;
    final String sort;
    final String plan;
    long queries;
    long maxKeysExamined;
    long maxDocsExamined;

    Shape(String ns, String filter, String sort, String plan) {
      this.ns = ns;
      this.filter = filter;
      this.sort = sort;
      this.plan = plan;
    }
  }

  boolean enabled() {
    return enabled;
  }

  void record(String ns, Document query, Document orderBy, String plan, long keysExamined, long docsExamined) {
    String filter = shape(query);
    String sort = orderBy == null ? "" : String.join(",", orderBy.keySet());
    Shape s = shapes.computeIfAbsent(ns + "|" + filter + "|" + sort + "|" + plan, k -> new Shape(ns, filter, sort, plan));
    synchronized (s) {
      s.queries++;
      s.maxKeysExamined = Math.max(s.maxKeysExamined, keysExamined);
      s.maxDocsExamined = Math.max(s.maxDocsExamined, docsExamined);
    }
  }

  /** Handles the command: applies {@code enable} and {@code reset}, answers the shapes seen. */
  Document command(Document query) {
    Object enable = query.get("enable");
    if (enable instanceof Boolean b) {
      enabled = b;
    }
    List<Document> out = new ArrayList<>();
    for (Shape s : shapes.values()) {
      synchronized (s) {
        out.add(new Document("ns", s.ns)
            .append("filter", s.filter)
            .append("sort", s.sort)
            .append("plan", s.plan)
            .append("queries", s.queries)
            .append("maxKeysExamined", s.maxKeysExamined)
            .append("maxDocsExamined", s.maxDocsExamined));
      }
    }
    if (Boolean.TRUE.equals(query.get("reset"))) {
      shapes.clear();
    }
    return new Document("enabled", enabled).append("shapes", out).append("ok", 1.0);
  }

  /** The filter with every value replaced by {@code ?}, keeping fields and operators. */
  static String shape(Object value) {
    if (value instanceof Document d) {
      boolean operators = !d.isEmpty() && d.keySet().iterator().next().startsWith("$");
      StringBuilder sb = new StringBuilder("{");
      for (Map.Entry<String, Object> e : d.entrySet()) {
        if (sb.length() > 1) {
          sb.append(", ");
        }
        sb.append(e.getKey()).append(": ");
        String k = e.getKey();
        if (k.equals("$and") || k.equals("$or") || k.equals("$nor")) {
          sb.append(shape(e.getValue()));
        } else if (e.getValue() instanceof Document inner && !inner.isEmpty()
            && inner.keySet().iterator().next().startsWith("$")) {
          sb.append(shape(inner));
        } else {
          sb.append(operators && e.getValue() instanceof Collection ? "[?]" : "?");
        }
      }
      return sb.append('}').toString();
    }
    if (value instanceof Collection<?> list) {
      List<String> parts = new ArrayList<>();
      for (Object o : list) {
        parts.add(shape(o));
      }
      return parts.toString();
    }
    return "?";
  }
}
