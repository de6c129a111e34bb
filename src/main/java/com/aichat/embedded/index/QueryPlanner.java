package com.aichat.embedded.index;

import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Chooses how an indexed collection answers a query, the way MongoDB's planner does for the shapes
 * that matter here:
 *
 * <ol>
 *   <li>equality (or {@code $in}) on every field of a unique index, {@code _id} included, whatever
 *       else the filter says: a direct lookup;
 *   <li>otherwise each {@link SecondaryIndex} whose leading fields are bounded: equality or {@code $in}
 *       on a prefix of its fields, then at most one range ({@code $gt/$gte/$lt/$lte}, with MongoDB's
 *       type bracketing) on the next field. A top-level {@code $or} is planned as the union of its
 *       branches when every branch is bounded on the same index. Sparse indexes serve only queries that
 *       cannot match a document missing the fields; partial ones only queries that repeat their
 *       filter's equalities;
 *   <li>an index whose order matches the requested sort after its equality prefix (either direction)
 *       is walked in that order, so a query with a limit stops after {@code skip + limit} matches;
 *   <li>among several candidates, their key ranges are walked side by side (without reading
 *       documents) and the first to finish wins: the smallest range, or a sorted walk that reached
 *       its limit;
 *   <li>no bounded index: a collection scan (mongo-java-server's own path).
 * </ol>
 *
 * Every plan returns a superset of the matching documents; the collection always applies the full
 * filter to what the plan yields.
 */
final class QueryPlanner {

  /** Most index intervals a plan may expand to (products of {@code $in} lists). */
  static final int MAX_INTERVALS = 256;
  /** Most key steps spent comparing candidate indexes before settling on one. */
  static final int MAX_TRIAL_STEPS = 20_000;

  private QueryPlanner() {}

  /** A chosen plan: the documents to filter, and whether they come in the requested order. */
  record Plan(String description, Stream<Document> candidates, boolean sortProvided, Counters counters) {}

  /** Keys and documents a plan examined. */
  static final class Counters {
    long keysExamined;
    long docsExamined;
  }

  /**
   * Plans {@code query}; returns null when no index bounds it (the caller scans).
   *
   * @param limit 0 for none
   */
  static <P> Plan plan(
      List<Index<P>> indexes, Document query, Document orderBy, int skip, int limit,
      Function<P, Document> documents) {
    Conjunction top = Conjunction.of(query);
    Counters counters = new Counters();
    for (Index<P> index : indexes) {
      if (index.isUnique()) {
        List<P> positions = uniqueLookup(index, top);
        if (positions != null) {
          Stream<Document> docs = positions.stream()
              .map(p -> {
                counters.docsExamined++;
                return documents.apply(p);
              })
              .filter(Objects::nonNull);
          counters.keysExamined = positions.size();
          return new Plan("IXSCAN " + index.getName() + " (unique)", docs, false, counters);
        }
      }
    }
    LinkedHashMap<String, Integer> sort = sortSpec(orderBy);
    List<Candidate<P>> candidates = new ArrayList<>();
    for (Index<P> index : indexes) {
      if (index instanceof SecondaryIndex<P> secondary && !secondary.isMultikey()) {
        Candidate<P> c = candidate(secondary, top, sort);
        if (c != null) {
          candidates.add(c);
        }
      }
    }
    if (candidates.isEmpty()) {
      return null;
    }
    Candidate<P> chosen = candidates.size() == 1 ? candidates.get(0) : trial(candidates, skip, limit);
    Stream<Document> docs = stream(chosen.walk(counters))
        .map(e -> {
          counters.docsExamined++;
          return documents.apply(e.getValue());
        })
        .filter(Objects::nonNull);
    String description = "IXSCAN " + chosen.index.getName()
        + (chosen.sortProvided && sort != null ? (chosen.reverse ? " (sorted, backward)" : " (sorted)") : "");
    return new Plan(description, docs, chosen.sortProvided, counters);
  }

  // ---- unique lookups ---------------------------------------------------------------------------

  private static <P> List<P> uniqueLookup(Index<P> index, Conjunction top) {
    List<List<Object>> values = new ArrayList<>();
    for (IndexKey key : index.getKeys()) {
      if (key.getKey().contains(".")) {
        return null;
      }
      Bound b = Bound.of(top.conditions(key.getKey()));
      if (!(b instanceof Points points) || points.values.stream().anyMatch(v -> v == null)) {
        return null;
      }
      values.add(points.values);
    }
    List<Document> probes = new ArrayList<>();
    probes.add(new Document());
    for (int i = 0; i < values.size(); i++) {
      String field = index.getKeys().get(i).getKey();
      List<Document> next = new ArrayList<>();
      for (Document probe : probes) {
        for (Object v : values.get(i)) {
          next.add(probe.clone().append(field, v));
        }
      }
      if (next.size() > MAX_INTERVALS) {
        return null;
      }
      probes = next;
    }
    List<P> positions = new ArrayList<>(probes.size());
    for (Document probe : probes) {
      P p = index.getPosition(probe);
      if (p != null && !positions.contains(p)) {
        positions.add(p);
      }
    }
    return positions;
  }

  // ---- secondary index candidates ---------------------------------------------------------------

  private static LinkedHashMap<String, Integer> sortSpec(Document orderBy) {
    if (orderBy == null || orderBy.isEmpty()) {
      return null;
    }
    LinkedHashMap<String, Integer> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : orderBy.entrySet()) {
      if (e.getKey().startsWith("$") || !(e.getValue() instanceof Number n)) {
        return new LinkedHashMap<>(Map.of("$unsupported", 1));
      }
      out.put(e.getKey(), n.doubleValue() < 0 ? -1 : 1);
    }
    return out;
  }

  private static <P> Candidate<P> candidate(
      SecondaryIndex<P> index, Conjunction top, LinkedHashMap<String, Integer> sort) {
    Intervals iv = intervals(index, top);
    if (iv == null && !top.ors.isEmpty()) {
      iv = unionOfBranches(index, top, top.ors.get(0));
    }
    if (iv == null) {
      return null;
    }
    boolean provided = false;
    boolean reverse = false;
    if (sort == null) {
      provided = true;
    } else if (!index.isCoarse()) {
      List<String> fields = index.fields();
      List<Map.Entry<String, Integer>> rest = new ArrayList<>();
      for (Map.Entry<String, Integer> e : sort.entrySet()) {
        int at = fields.indexOf(e.getKey());
        if (at < 0 || at >= iv.equalityPrefix) {
          rest.add(e);
        }
      }
      provided = true;
      Boolean backwards = null;
      for (int i = 0; i < rest.size(); i++) {
        int at = iv.equalityPrefix + i;
        if (at >= fields.size() || !fields.get(at).equals(rest.get(i).getKey())) {
          provided = false;
          break;
        }
        int indexDir = index.isDescending(at) ? -1 : 1;
        boolean back = indexDir != rest.get(i).getValue();
        if (backwards != null && backwards != back) {
          provided = false;
          break;
        }
        backwards = back;
      }
      reverse = provided && Boolean.TRUE.equals(backwards);
    }
    return new Candidate<>(index, iv.merged(), provided, reverse);
  }

  private static <P> Intervals unionOfBranches(SecondaryIndex<P> index, Conjunction top, List<Document> branches) {
    List<byte[][]> all = new ArrayList<>();
    for (Document branch : branches) {
      Intervals iv = intervals(index, top.and(branch));
      if (iv == null) {
        return null;
      }
      all.addAll(iv.ranges);
    }
    return new Intervals(all, 0);
  }

  /** The key ranges of {@code index} that hold every document matching {@code q}, or null if it is unbounded. */
  private static <P> Intervals intervals(SecondaryIndex<P> index, Conjunction q) {
    Document implied = index.impliedEqualities();
    if (implied == null) {
      return null;
    }
    for (Map.Entry<String, Object> e : implied.entrySet()) {
      if (!(Bound.of(q.conditions(e.getKey())) instanceof Points p)
          || p.encoded.size() != 1
          || KeyCodec.compare(p.encoded.get(0), KeyCodec.encode(e.getValue()).bytes()) != 0) {
        return null;
      }
    }
    List<byte[]> prefixes = new ArrayList<>();
    prefixes.add(new byte[0]);
    int equalityPrefix = 0;
    boolean singlePrefix = true;
    boolean excludesNull = false;
    Range last = null;
    int bounded = 0;
    for (int i = 0; i < index.fields().size(); i++) {
      Bound b = Bound.of(q.conditions(index.fields().get(i)));
      if (b instanceof Points points) {
        if (points.encoded.isEmpty()) {
          return new Intervals(List.of(), index.fields().size()); // contradictory: nothing matches
        }
        if (prefixes.size() * points.encoded.size() > MAX_INTERVALS) {
          break;
        }
        boolean desc = index.isDescending(i);
        List<byte[]> next = new ArrayList<>();
        for (byte[] prefix : prefixes) {
          for (byte[] point : points.encoded) {
            next.add(KeyCodec.concat(prefix, desc ? KeyCodec.invert(point) : point));
          }
        }
        prefixes = next;
        bounded++;
        excludesNull |= !points.hasNull();
        singlePrefix &= points.encoded.size() == 1;
        if (singlePrefix) {
          equalityPrefix++;
        }
        continue;
      }
      if (b instanceof Range range) {
        last = index.isDescending(i) ? range.inverted() : range;
        bounded++;
        excludesNull = true;
      }
      break;
    }
    if (bounded == 0 || (index.sparse() && !excludesNull)) {
      return null;
    }
    List<byte[][]> ranges = new ArrayList<>(prefixes.size());
    for (byte[] prefix : prefixes) {
      if (last != null && last.lower != null && last.lowerBytes() == null) {
        continue; // nothing sorts after the lower bound
      }
      byte[] from = last == null || last.lower == null ? prefix : KeyCodec.concat(prefix, last.lowerBytes());
      byte[] to;
      if (last == null || last.upper == null) {
        to = KeyCodec.successor(prefix);
      } else {
        byte[] upper = last.upperBytes();
        to = upper == null ? KeyCodec.successor(prefix) : KeyCodec.concat(prefix, upper);
      }
      ranges.add(new byte[][] {from, to});
    }
    return new Intervals(ranges, equalityPrefix);
  }

  /** Walks candidates' key ranges side by side; the first to run out (or reach its limit) wins. */
  private static <P> Candidate<P> trial(List<Candidate<P>> candidates, int skip, int limit) {
    List<Iterator<Map.Entry<byte[], P>>> walks = new ArrayList<>();
    Counters ignored = new Counters();
    for (Candidate<P> c : candidates) {
      walks.add(c.walk(ignored));
    }
    long[] steps = new long[candidates.size()];
    for (int round = 0; round * candidates.size() < MAX_TRIAL_STEPS; round++) {
      for (int i = 0; i < candidates.size(); i++) {
        Candidate<P> c = candidates.get(i);
        boolean capped = c.sortProvided && limit > 0 && steps[i] >= (long) skip + limit;
        if (capped || !walks.get(i).hasNext()) {
          return c;
        }
        walks.get(i).next();
        steps[i]++;
      }
    }
    for (Candidate<P> c : candidates) {
      if (c.sortProvided && limit > 0) {
        return c;
      }
    }
    return candidates.get(0);
  }

  private static <T> Stream<T> stream(Iterator<T> it) {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED), false);
  }

  /** Merged, sorted key ranges {@code [from, to)} (null = unbounded) and the equality-bound prefix length. */
  private record Intervals(List<byte[][]> ranges, int equalityPrefix) {

    Intervals merged() {
      List<byte[][]> sorted = new ArrayList<>(ranges);
      sorted.removeIf(r -> r[0] != null && r[1] != null && KeyCodec.compare(r[0], r[1]) >= 0);
      sorted.sort(Comparator.comparing((byte[][] r) -> r[0], Comparator.nullsFirst(KeyCodec::compare)));
      List<byte[][]> out = new ArrayList<>();
      for (byte[][] r : sorted) {
        byte[][] lastRange = out.isEmpty() ? null : out.get(out.size() - 1);
        if (lastRange != null && (lastRange[1] == null || (r[0] != null && KeyCodec.compare(r[0], lastRange[1]) <= 0))) {
          if (lastRange[1] != null && (r[1] == null || KeyCodec.compare(r[1], lastRange[1]) > 0)) {
            lastRange[1] = r[1];
          }
        } else {
          out.add(new byte[][] {r[0], r[1]});
        }
      }
      return new Intervals(out, equalityPrefix);
    }
  }

  private record Candidate<P>(SecondaryIndex<P> index, Intervals intervals, boolean sortProvided, boolean reverse) {

    Iterator<Map.Entry<byte[], P>> walk(Counters counters) {
      List<byte[][]> ranges = new ArrayList<>(intervals.ranges());
      if (reverse) {
        Collections.reverse(ranges);
      }
      Iterator<byte[][]> next = ranges.iterator();
      return new Iterator<>() {
        private Iterator<Map.Entry<byte[], P>> current = Collections.emptyIterator();

        @Override
        public boolean hasNext() {
          while (!current.hasNext()) {
            if (!next.hasNext()) {
              return false;
            }
            byte[][] r = next.next();
            current = index.range(r[0], r[1], reverse);
          }
          return true;
        }

        @Override
        public Map.Entry<byte[], P> next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          counters.keysExamined++;
          return current.next();
        }
      };
    }
  }

  // ---- filters as conjunctions of per-field conditions -------------------------------------------

  /** The top level of a filter: conditions per field (from nested {@code $and}s too) and its {@code $or}s. */
  static final class Conjunction {
    private final Map<String, List<Object>> byField = new LinkedHashMap<>();
    final List<List<Document>> ors = new ArrayList<>();

    static Conjunction of(Document query) {
      Conjunction c = new Conjunction();
      c.add(query);
      return c;
    }

    List<Object> conditions(String field) {
      return byField.getOrDefault(field, List.of());
    }

    Conjunction and(Document more) {
      Conjunction c = new Conjunction();
      byField.forEach((k, v) -> c.byField.put(k, new ArrayList<>(v)));
      c.add(more);
      return c;
    }

    @SuppressWarnings("unchecked")
    private void add(Document query) {
      if (query == null) {
        return;
      }
      for (Map.Entry<String, Object> e : query.entrySet()) {
        String key = e.getKey();
        if (key.equals("$and") && e.getValue() instanceof Collection<?> parts) {
          for (Object part : parts) {
            if (part instanceof Document d) {
              add(d);
            }
          }
        } else if (key.equals("$or") && e.getValue() instanceof Collection<?> branches) {
          List<Document> list = new ArrayList<>();
          for (Object b : branches) {
            if (b instanceof Document d) {
              list.add(d);
            }
          }
          if (list.size() != branches.size() || list.isEmpty()) {
            continue; // malformed: the filter itself will report it
          }
          if (list.size() == 1) {
            add(list.get(0));
          } else {
            ors.add(list);
          }
        } else if (!key.startsWith("$")) {
          byField.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getValue());
        }
        // other top-level operators ($nor, $expr, $where, ...) do not bound an index; the filter
        // still applies them to every document found.
      }
    }
  }

  /** What a field's conditions allow, in ascending key encoding. */
  private sealed interface Bound permits Points, Range {

    /** Intersects every condition this planner understands; null when they do not bound the field. */
    static Bound of(List<Object> conditions) {
      Points points = null;
      Range range = null;
      for (Object condition : conditions) {
        for (Bound b : understood(condition)) {
          if (b instanceof Points p) {
            points = points == null ? p : points.intersect(p);
          } else {
            range = range == null ? (Range) b : range.intersect((Range) b);
          }
        }
      }
      if (points != null) {
        return range == null ? points : points.within(range);
      }
      return range;
    }

    private static List<Bound> understood(Object condition) {
      if (!(condition instanceof Document d) || d.isEmpty() || !d.keySet().iterator().next().startsWith("$")) {
        Points p = Points.of(Collections.singletonList(condition));
        return p == null ? List.of() : List.of(p);
      }
      List<Bound> out = new ArrayList<>();
      for (Map.Entry<String, Object> op : d.entrySet()) {
        Object v = op.getValue();
        Bound b = switch (op.getKey()) {
          case "$eq" -> Points.of(Collections.singletonList(v));
          case "$in" -> v instanceof Collection<?> values ? Points.of(new ArrayList<>(values)) : null;
          case "$gt", "$gte", "$lt", "$lte" -> Range.of(op.getKey(), v);
          case "$exists" -> Boolean.FALSE.equals(v) || (v instanceof Number n && n.doubleValue() == 0)
              ? Points.of(Collections.singletonList(null))
              : null;
          default -> null;
        };
        if (b != null) {
          out.add(b);
        }
      }
      return out;
    }
  }

  /** Equality to one of these values (ascending encodings, sorted and distinct). */
  private record Points(List<Object> values, List<byte[]> encoded) implements Bound {

    /** Null when a value cannot be an index point (regex, array, document, or no exact encoding). */
    static Points of(List<Object> values) {
      List<Object> kept = new ArrayList<>();
      List<byte[]> enc = new ArrayList<>();
      for (Object v : values) {
        if (v instanceof Pattern || v instanceof BsonRegularExpression || v instanceof Collection
            || v instanceof Document) {
          return null;
        }
        KeyCodec.Encoded e = KeyCodec.encode(v);
        if (!e.exact()) {
          return null;
        }
        if (enc.stream().noneMatch(x -> KeyCodec.compare(x, e.bytes()) == 0)) {
          kept.add(v);
          enc.add(e.bytes());
        }
      }
      sortTogether(kept, enc);
      return new Points(kept, enc);
    }

    private static void sortTogether(List<Object> values, List<byte[]> enc) {
      Integer[] order = new Integer[enc.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (a, b) -> KeyCodec.compare(enc.get(a), enc.get(b)));
      List<Object> v2 = new ArrayList<>();
      List<byte[]> e2 = new ArrayList<>();
      for (Integer i : order) {
        v2.add(values.get(i));
        e2.add(enc.get(i));
      }
      values.clear();
      values.addAll(v2);
      enc.clear();
      enc.addAll(e2);
    }

    boolean hasNull() {
      return encoded.stream().anyMatch(e -> e.length == 1 && e[0] == KeyCodec.NULL);
    }

    Points intersect(Points other) {
      List<Object> v = new ArrayList<>();
      List<byte[]> e = new ArrayList<>();
      for (int i = 0; i < encoded.size(); i++) {
        byte[] mine = encoded.get(i);
        if (other.encoded.stream().anyMatch(x -> KeyCodec.compare(x, mine) == 0)) {
          v.add(values.get(i));
          e.add(mine);
        }
      }
      return new Points(v, e);
    }

    Points within(Range range) {
      List<Object> v = new ArrayList<>();
      List<byte[]> e = new ArrayList<>();
      for (int i = 0; i < encoded.size(); i++) {
        if (range.contains(encoded.get(i))) {
          v.add(values.get(i));
          e.add(encoded.get(i));
        }
      }
      return new Points(v, e);
    }
  }

  /**
   * A range in key-encoding space. {@code lower = (P, strict)}: keys that start with {@code P} or sort
   * after it ({@code strict}: only those after everything that starts with {@code P}).
   * {@code upper = (Q, inclusive)}: keys before {@code Q} ({@code inclusive}: also those starting with
   * {@code Q}). Either may be absent.
   */
  private record Range(byte[] lower, boolean lowerStrict, byte[] upper, boolean upperInclusive) implements Bound {

    static Range of(String op, Object v) {
      if (v == null || v instanceof MinKey || v instanceof MaxKey || v instanceof Collection
          || v instanceof Document || v instanceof Pattern || v instanceof BsonRegularExpression
          || (v instanceof Double d && d.isNaN())) {
        return null;
      }
      KeyCodec.Encoded e = KeyCodec.encode(v);
      if (!e.exact()) {
        return null;
      }
      byte[] type = {KeyCodec.typeOf(v)};
      return switch (op) {
        case "$gt" -> new Range(e.bytes(), true, type, true);
        case "$gte" -> new Range(e.bytes(), false, type, true);
        case "$lt" -> new Range(type, false, e.bytes(), false);
        default -> new Range(type, false, e.bytes(), true); // $lte
      };
    }

    /** The first key inside the range (inclusive), or null when unbounded below. */
    byte[] lowerBytes() {
      return lower == null ? null : lowerStrict ? KeyCodec.successor(lower) : lower;
    }

    /** The first key past the range (exclusive), or null when unbounded above. */
    byte[] upperBytes() {
      return upper == null ? null : upperInclusive ? KeyCodec.successor(upper) : upper;
    }

    boolean contains(byte[] key) {
      byte[] from = lowerBytes();
      if (lower != null && (from == null || KeyCodec.compare(key, from) < 0)) {
        return false;
      }
      byte[] to = upperBytes();
      return to == null || KeyCodec.compare(key, to) < 0;
    }

    Range intersect(Range other) {
      byte[] lo = lower;
      boolean loStrict = lowerStrict;
      if (other.lower != null
          && (lo == null || compareNullHigh(other.lowerBytes(), lowerBytes()) > 0)) {
        lo = other.lower;
        loStrict = other.lowerStrict;
      }
      byte[] hi = upper;
      boolean hiIncl = upperInclusive;
      if (other.upper != null && (hi == null || compareNullHigh(other.upperBytes(), upperBytes()) < 0)) {
        hi = other.upper;
        hiIncl = other.upperInclusive;
      }
      return new Range(lo, loStrict, hi, hiIncl);
    }

    /** The same range over inverted (descending) encodings: bounds swap sides and strictness. */
    Range inverted() {
      byte[] lo = upper == null ? null : KeyCodec.invert(upper);
      boolean loStrict = !upperInclusive;
      byte[] hi = lower == null ? null : KeyCodec.invert(lower);
      boolean hiIncl = !lowerStrict;
      return new Range(lo, loStrict, hi, hiIncl);
    }

    /** Compares bounds where null means "past every key" (a successor that does not exist). */
    private static int compareNullHigh(byte[] a, byte[] b) {
      if (a == null || b == null) {
        return a == b ? 0 : a == null ? 1 : -1;
      }
      return KeyCodec.compare(a, b);
    }
  }
}
