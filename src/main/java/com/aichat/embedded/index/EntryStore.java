package com.aichat.embedded.index;

import java.util.Iterator;
import java.util.Map;

/**
 * Where a {@link SecondaryIndex} keeps its entries: a sorted map from entry key (encoded compound key
 * plus the document's id, see {@link KeyCodec}) to the document's position in its collection, compared
 * as unsigned bytes. {@link MemoryEntryStore} keeps it on the heap; {@link MvStoreEntryStore} keeps it
 * in the H2 MVStore beside the documents, so it is committed with them.
 *
 * <p>Callers hold the collection's lock for every write, so implementations only need to be safe for
 * reads that run beside a write (the collection's {@code count} path).
 */
interface EntryStore<P> {

  void put(byte[] key, P position);

  /** Removes the entry; returns its position, or null when it was not there. */
  P remove(byte[] key);

  long size();

  /** Entries with {@code from <= key < to} (null = unbounded), ascending or, with {@code reverse}, descending. */
  Iterator<Map.Entry<byte[], P>> range(byte[] from, byte[] to, boolean reverse);

  /** Every entry, ascending. */
  default Iterator<Map.Entry<byte[], P>> all() {
    return range(null, null, false);
  }

  /** A persistent flag of the index ({@code multikey}, {@code coarse}). */
  boolean flag(String name);

  void setFlag(String name);

  /** Removes every entry and flag (the index is dropped). */
  void clear();
}
