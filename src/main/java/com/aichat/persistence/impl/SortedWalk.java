package com.aichat.persistence.impl;

import static com.aichat.persistence.impl.MongoDocs.date;
import static com.aichat.persistence.impl.MongoDocs.oid;

import com.aichat.persistence.impl.MongoDocs.SortKey;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a collection in {@code (field, _id)} order from a position, stopping at a limit, so a page
 * costs about a page of documents however long the collection's stretch is. Callers' filters must be
 * served by an index ending in {@code field, _id} (messages: {@code chatSessionId_createdAt_id};
 * sessions: {@code userId_updatedAt_id}).
 *
 * <p>The position is not one {@code $or} of "later time" and "same time, later id": the embedded
 * planner (and, without a hint, MongoDB's too) answers such a union unsorted, reading every document
 * past the position for each page. Instead two sorted walks, each with the limit: the rest of the
 * position's millisecond ({@code createdAt = t, _id > id}), then the later ones ({@code createdAt > t}).
 * A far bound ({@code until}) is a plain range on {@code createdAt} (inclusive of its millisecond), and
 * the few documents of that millisecond past it are dropped here.
 */
final class SortedWalk {

  private SortedWalk() {}

  /**
   * Up to {@code n} documents matching {@code base} strictly after ({@code forward}) or before
   * {@code from} (null: from the start or end), and strictly before reaching {@code until} (null: no
   * far bound), in walk order.
   */
  static Future<List<JsonObject>> beyond(MongoClient mongo, String collection, JsonObject base, SortKey from,
      SortKey until, boolean forward, int n) {
    return beyond(mongo, collection, base, "createdAt", from, until, forward, n);
  }

  /** As {@link #beyond(MongoClient, String, JsonObject, SortKey, SortKey, boolean, int)}, in {@code (field, _id)} order. */
  static Future<List<JsonObject>> beyond(MongoClient mongo, String collection, JsonObject base, String field,
      SortKey from, SortKey until, boolean forward, int n) {
    int dir = forward ? 1 : -1;
    String op = forward ? "$gt" : "$lt";
    JsonObject sort = new JsonObject().put(field, dir).put("_id", dir);
    JsonObject later = new JsonObject();
    if (from != null) {
      later.put(op, date(from.time()));
    }
    if (until != null) {
      later.put(forward ? "$lte" : "$gte", date(until.time()));
    }
    JsonObject rest = later.isEmpty() ? base : base.copy().put(field, later);
    if (from == null) {
      return find(mongo, collection, rest, sort, n).map(docs -> within(docs, field, until, forward));
    }
    JsonObject sameTime = base.copy().put(field, date(from.time()))
        .put("_id", new JsonObject().put(op, oid(from.id())));
    return find(mongo, collection, sameTime, sort, n).compose(first -> {
      if (first.size() >= n) {
        return Future.succeededFuture(within(first, field, until, forward));
      }
      return find(mongo, collection, rest, sort, n - first.size()).map(more -> {
        List<JsonObject> all = new ArrayList<>(first);
        all.addAll(more);
        return within(all, field, until, forward);
      });
    });
  }

  private static Future<List<JsonObject>> find(MongoClient mongo, String collection, JsonObject query,
      JsonObject sort, int n) {
    return mongo.findWithOptions(collection, query, new FindOptions().setSort(sort).setLimit(Math.max(1, n)));
  }

  /** The leading documents (in walk order) that come strictly before {@code until}. */
  private static List<JsonObject> within(List<JsonObject> docs, String field, SortKey until, boolean forward) {
    if (until == null) {
      return docs;
    }
    List<JsonObject> out = new ArrayList<>(docs.size());
    for (JsonObject doc : docs) {
      int c = compare(doc, field, until);
      if (forward ? c >= 0 : c <= 0) {
        break; // sorted: every later document is past the bound too
      }
      out.add(doc);
    }
    return out;
  }

  /** The document's {@code (field, _id)} against the key. */
  static int compare(JsonObject doc, String field, SortKey key) {
    int byTime = MongoDocs.instant(doc.getValue(field)).compareTo(key.time());
    return byTime != 0 ? byTime : MongoDocs.id(doc.getValue("_id")).compareToIgnoreCase(key.id());
  }
}
