package com.aichat.embedded.index;

import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** {@link EntryStore} on the heap (the in-memory backend). */
final class MemoryEntryStore<P> implements EntryStore<P> {

  private final ConcurrentSkipListMap<byte[], P> entries = new ConcurrentSkipListMap<>(KeyCodec::compare);
  private final Set<String> flags = ConcurrentHashMap.newKeySet();

  @Override
  public void put(byte[] key, P position) {
    entries.put(key, position);
  }

  @Override
  public P remove(byte[] key) {
    return entries.remove(key);
  }

  @Override
  public long size() {
    return entries.size();
  }

  @Override
  public Iterator<Map.Entry<byte[], P>> range(byte[] from, byte[] to, boolean reverse) {
    NavigableMap<byte[], P> view = entries;
    if (from != null && to != null) {
      view = KeyCodec.compare(from, to) >= 0 ? entries.subMap(from, true, from, false) : entries.subMap(from, true, to, false);
    } else if (from != null) {
      view = entries.tailMap(from, true);
    } else if (to != null) {
      view = entries.headMap(to, false);
    }
    return (reverse ? view.descendingMap() : view).entrySet().iterator();
  }

  @Override
  public boolean flag(String name) {
    return flags.contains(name);
  }

  @Override
  public void setFlag(String name) {
    flags.add(name);
  }

  @Override
  public void clear() {
    entries.clear();
    flags.clear();
  }
}
