package com.aichat.embedded.index;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A non-unique (compound, sparse and/or partial) index for mongo-java-server, which on its own accepts
 * such indexes but ignores them. Entries live in an {@link EntryStore}; the key of an entry is the
 * {@link KeyCodec} encoding of the document's values for the index's fields (descending fields
 * inverted), followed by the document's {@code _id}, so that every entry is unique and can be removed
 * knowing only the document.
 *
 * <ul>
 *   <li><b>sparse</b>: a document without any of the index's fields has no entry;
 *   <li><b>partial</b>: a document that does not match {@code partialFilterExpression} has no entry;
 *       the {@link QueryPlanner} uses such an index only for a query that implies the filter;
 *   <li><b>multikey</b>: once a document with an array in an indexed field is stored, the index is no
 *       longer used for queries (it is still maintained); MongoDB's multikey bounds are not built here;
 *   <li><b>coarse</b>: once a value without an exact encoding is stored, the index no longer provides
 *       sort orders (it still narrows queries).
 * </ul>
 *
 * The lookup methods mongo-java-server's own planner calls ({@link #canHandle}) answer "no": queries are
 * planned by {@link QueryPlanner} in the indexed collections.
 */
public final class SecondaryIndex<P> extends Index<P> {

  static final String MULTIKEY = "multikey";
  static final String COARSE = "coarse";

  private final boolean sparse;
  private final Document partialFilter;
  private final Document impliedEqualities;
  private final EntryStore<P> store;
  private final DefaultQueryMatcher matcher = new DefaultQueryMatcher();
  private final List<String> fields;
  private final boolean[] descending;

  SecondaryIndex(String name, List<IndexKey> keys, boolean sparse, Document partialFilter, EntryStore<P> store) {
    super(name, keys, sparse);
    this.sparse = sparse;
    this.partialFilter = partialFilter == null || partialFilter.isEmpty() ? null : partialFilter;
    this.impliedEqualities = this.partialFilter == null ? new Document() : equalitiesOf(this.partialFilter);
    this.store = store;
    this.fields = keys.stream().map(IndexKey::getKey).toList();
    this.descending = new boolean[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      descending[i] = !keys.get(i).isAscending();
    }
  }

  /**
   * The equality conditions of a partial filter ({@code {field: value}} or {@code {$eq: value}}), or
   * null when it has anything else (then no query is known to imply it, and the index is never used).
   */
  private static Document equalitiesOf(Document filter) {
    Document out = new Document();
    for (Map.Entry<String, Object> e : filter.entrySet()) {
      Object v = e.getValue();
      if (e.getKey().startsWith("$")) {
        return null;
      }
      if (v instanceof Document d) {
        if (d.size() == 1 && d.containsKey("$eq")) {
          v = d.get("$eq");
        } else {
          return null;
        }
      }
      out.put(e.getKey(), v);
    }
    return out;
  }

  List<String> fields() {
    return fields;
  }

  boolean isDescending(int keyIndex) {
    return descending[keyIndex];
  }

  boolean sparse() {
    return sparse;
  }

  /** The partial filter's equalities every usable query must repeat; null if the filter is not of that form. */
  Document impliedEqualities() {
    return impliedEqualities;
  }

  boolean isMultikey() {
    return store.flag(MULTIKEY);
  }

  boolean isCoarse() {
    return store.flag(COARSE);
  }

  Iterator<Map.Entry<byte[], P>> range(byte[] from, byte[] to, boolean reverse) {
    return store.range(from, to, reverse);
  }

  /** The entry key of a document, or null when the index holds no entry for it. */
  byte[] entryKey(Document document, boolean updateFlags) {
    if (partialFilter != null && !matcher.matches(document, partialFilter)) {
      return null;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(64);
    boolean anyPresent = false;
    for (int i = 0; i < fields.size(); i++) {
      Object value = Utils.getSubdocumentValueCollectionAware(document, fields.get(i));
      if (!(value instanceof Missing)) {
        anyPresent = true;
      }
      if (value instanceof Collection && updateFlags && !store.flag(MULTIKEY)) {
        store.setFlag(MULTIKEY);
      }
      KeyCodec.Encoded e = KeyCodec.encode(value);
      if (!e.exact() && updateFlags && !store.flag(COARSE)) {
        store.setFlag(COARSE);
      }
      out.writeBytes(descending[i] ? KeyCodec.invert(e.bytes()) : e.bytes());
    }
    if (sparse && !anyPresent) {
      return null;
    }
    out.writeBytes(KeyCodec.idSuffix(document.get("_id")));
    return out.toByteArray();
  }

  @Override
  protected boolean isSparse() {
    // Tells the collection that a document may legitimately have no entry here (sparse or partial).
    return true;
  }

  @Override
  public Document toIndexDescription() {
    Document description = super.toIndexDescription();
    description.remove("sparse");
    if (sparse) {
      description.put("sparse", true);
    }
    if (partialFilter != null) {
      description.put("partialFilterExpression", partialFilter);
    }
    return description;
  }

  @Override
  public boolean hasSameOptions(Index<?> other) {
    return other instanceof SecondaryIndex<?> o
        && o.sparse == sparse
        && Objects.equals(o.partialFilter, partialFilter);
  }

  @Override
  public P getPosition(Document document) {
    return null; // not unique: the collection takes positions from its _id index
  }

  @Override
  public void checkAdd(Document document, MongoCollection<P> collection) {
    // no constraint to check
  }

  @Override
  public void add(Document document, P position, MongoCollection<P> collection) {
    byte[] key = entryKey(document, true);
    if (key != null) {
      store.put(key, position);
    }
  }

  @Override
  public P remove(Document document) {
    byte[] key = entryKey(document, false);
    return key == null ? null : store.remove(key);
  }

  @Override
  public boolean canHandle(Document query) {
    return false;
  }

  @Override
  public Iterable<P> getPositions(Document query) {
    throw new IllegalStateException("secondary indexes are planned by QueryPlanner");
  }

  @Override
  public long getCount() {
    return store.size();
  }

  @Override
  public long getDataSize() {
    return store.size();
  }

  @Override
  public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
    // no constraint to check
  }

  @Override
  public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) {
    byte[] before = entryKey(oldDocument, false);
    byte[] after = entryKey(newDocument, true);
    if (before != null && after != null && KeyCodec.compare(before, after) == 0) {
      return;
    }
    if (before != null) {
      store.remove(before);
    }
    if (after != null) {
      store.put(after, position);
    }
  }

  @Override
  public void drop() {
    store.clear();
  }

  /**
   * Checks the entries against the documents: every document the index should hold has exactly its
   * entry at its position, and there is no other entry. Returns the problems found (empty when
   * consistent), at most {@code maxProblems}.
   */
  List<String> verify(Iterable<Map.Entry<P, Document>> documents, int maxProblems) {
    List<String> problems = new ArrayList<>();
    long expected = 0;
    for (Map.Entry<P, Document> d : documents) {
      byte[] key = entryKey(d.getValue(), false);
      if (key == null) {
        continue;
      }
      expected++;
      Iterator<Map.Entry<byte[], P>> it = store.range(key, KeyCodec.successor(key), false);
      if (!it.hasNext()) {
        add(problems, maxProblems, "missing entry for _id " + d.getValue().get("_id"));
        continue;
      }
      Map.Entry<byte[], P> entry = it.next();
      if (KeyCodec.compare(entry.getKey(), key) != 0 || !Objects.equals(entry.getValue(), d.getKey())) {
        add(problems, maxProblems, "wrong entry for _id " + d.getValue().get("_id"));
      }
    }
    long stored = store.size();
    if (stored != expected) {
      add(problems, maxProblems, (stored - expected) + " entries without a matching document (" + stored
          + " stored, " + expected + " expected)");
    }
    return problems;
  }

  private static void add(List<String> problems, int max, String problem) {
    if (problems.size() < max) {
      problems.add(problem);
    }
  }
}
