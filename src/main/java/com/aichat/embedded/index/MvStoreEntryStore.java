package com.aichat.embedded.index;

import de.bwaldvogel.mongo.bson.ObjectId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * {@link EntryStore} in the H2 MVStore, in two maps named after the index: {@code <name>} holds the
 * entries (byte keys compared unsigned, positions encoded compactly) and {@code <name>.flags} the
 * flags. Both are written by the same commits as the documents, so after a restart or a crash the
 * index is exactly as current as the data it indexes (see {@code DurableH2Backend}).
 */
final class MvStoreEntryStore implements EntryStore<Object> {

  private final MVStore store;
  private final MVMap<byte[], Object> entries;
  private final MVMap<String, Boolean> flags;

  MvStoreEntryStore(MVStore store, String mapName) {
    this.store = store;
    this.entries = store.openMap(mapName,
        new MVMap.Builder<byte[], Object>().keyType(BytesType.INSTANCE).valueType(PositionType.INSTANCE));
    this.flags = store.openMap(mapName + ".flags");
  }

  @Override
  public void put(byte[] key, Object position) {
    entries.put(key, position);
  }

  @Override
  public Object remove(byte[] key) {
    return entries.remove(key);
  }

  @Override
  public long size() {
    return entries.sizeAsLong();
  }

  @Override
  public Iterator<Map.Entry<byte[], Object>> range(byte[] from, byte[] to, boolean reverse) {
    if (!reverse) {
      Cursor<byte[], Object> cursor = entries.cursor(from);
      return new Bounded(cursor, key -> to == null || KeyCodec.compare(key, to) < 0);
    }
    byte[] start = to == null ? entries.lastKey() : entries.lowerKey(to);
    if (start == null) {
      return Collections.emptyIterator();
    }
    Cursor<byte[], Object> cursor = entries.cursor(start, null, true);
    return new Bounded(cursor, key -> from == null || KeyCodec.compare(key, from) >= 0);
  }

  @Override
  public boolean flag(String name) {
    return Boolean.TRUE.equals(flags.get(name));
  }

  @Override
  public void setFlag(String name) {
    flags.put(name, Boolean.TRUE);
  }

  @Override
  public void clear() {
    store.removeMap(entries);
    store.removeMap(flags);
  }

  /** Walks a cursor while its keys stay inside the range. */
  private static final class Bounded implements Iterator<Map.Entry<byte[], Object>> {
    private final Cursor<byte[], Object> cursor;
    private final java.util.function.Predicate<byte[]> inside;
    private Map.Entry<byte[], Object> next;
    private boolean done;

    Bounded(Cursor<byte[], Object> cursor, java.util.function.Predicate<byte[]> inside) {
      this.cursor = cursor;
      this.inside = inside;
    }

    @Override
    public boolean hasNext() {
      if (next != null) {
        return true;
      }
      if (done || !cursor.hasNext()) {
        done = true;
        return false;
      }
      byte[] key = cursor.next();
      if (!inside.test(key)) {
        done = true;
        return false;
      }
      next = new AbstractMap.SimpleImmutableEntry<>(key, cursor.getValue());
      return true;
    }

    @Override
    public Map.Entry<byte[], Object> next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Map.Entry<byte[], Object> out = next;
      next = null;
      return out;
    }
  }

  /** Byte-string keys, compared as unsigned bytes (the order {@link KeyCodec} preserves). */
  static final class BytesType extends BasicDataType<byte[]> {
    static final BytesType INSTANCE = new BytesType();

    @Override
    public int getMemory(byte[] obj) {
      return 24 + obj.length;
    }

    @Override
    public void write(WriteBuffer buff, byte[] obj) {
      buff.putVarInt(obj.length).put(obj);
    }

    @Override
    public byte[] read(ByteBuffer buff) {
      byte[] out = new byte[DataUtils.readVarInt(buff)];
      buff.get(out);
      return out;
    }

    @Override
    public int compare(byte[] a, byte[] b) {
      return KeyCodec.compare(a, b);
    }

    @Override
    public byte[][] createStorage(int size) {
      return new byte[size][];
    }
  }

  /**
   * Document positions (the H2 backend's position is the document's {@code _id}): ObjectIds, strings and
   * numbers compactly, anything else through Java serialization.
   */
  static final class PositionType extends BasicDataType<Object> {
    static final PositionType INSTANCE = new PositionType();

    private static final byte SERIALIZED = 0;
    private static final byte OBJECT_ID = 1;
    private static final byte STRING = 2;
    private static final byte INT = 3;
    private static final byte LONG = 4;
    private static final byte DOUBLE = 5;

    @Override
    public int getMemory(Object obj) {
      return 48;
    }

    @Override
    public void write(WriteBuffer buff, Object obj) {
      if (obj instanceof ObjectId id) {
        buff.put(OBJECT_ID).put(id.toByteArray());
      } else if (obj instanceof String s) {
        buff.put(STRING).putVarInt(s.length()).putStringData(s, s.length());
      } else if (obj instanceof Integer i) {
        buff.put(INT).putInt(i);
      } else if (obj instanceof Long l) {
        buff.put(LONG).putLong(l);
      } else if (obj instanceof Double d) {
        buff.put(DOUBLE).putDouble(d);
      } else {
        byte[] bytes = serialize(obj);
        buff.put(SERIALIZED).putVarInt(bytes.length).put(bytes);
      }
    }

    @Override
    public Object read(ByteBuffer buff) {
      byte tag = buff.get();
      switch (tag) {
        case OBJECT_ID: {
          byte[] id = new byte[12];
          buff.get(id);
          return new ObjectId(id);
        }
        case STRING:
          return DataUtils.readString(buff, DataUtils.readVarInt(buff));
        case INT:
          return buff.getInt();
        case LONG:
          return buff.getLong();
        case DOUBLE:
          return buff.getDouble();
        default: {
          byte[] bytes = new byte[DataUtils.readVarInt(buff)];
          buff.get(bytes);
          return deserialize(bytes);
        }
      }
    }

    @Override
    public Object[] createStorage(int size) {
      return new Object[size];
    }

    private static byte[] serialize(Object obj) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
        out.writeObject(obj);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot store index position " + obj.getClass().getName(), e);
      }
      return bytes.toByteArray();
    }

    private static Object deserialize(byte[] bytes) {
      try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
        return in.readObject();
      } catch (IOException | ClassNotFoundException e) {
        throw new IllegalStateException("cannot read index position", e);
      }
    }
  }
}
