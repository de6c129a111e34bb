package com.aichat.embedded.index;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Order-preserving byte encoding of index keys: for two values {@code a, b} of the types the service
 * stores, {@code compareUnsigned(encode(a), encode(b))} has the sign of MongoDB's comparison
 * (mongo-java-server's {@code ValueComparator}). Every encoding is prefix-free (no encoding is a
 * proper prefix of another), so a compound key is the concatenation of its components, and a
 * descending component is its encoding with every bit inverted.
 *
 * <p>Exact: null and missing (one value, as MongoDB indexes them), MinKey/MaxKey, numbers that a
 * double holds exactly (all int and double values, longs up to 2^53), strings (UTF-16 code unit order,
 * as {@code String.compareTo}), ObjectIds, booleans and dates. Any other value (embedded documents,
 * arrays, binary data, timestamps, regular expressions, Decimal128, larger longs, NaN) is encoded
 * coarsely: its type byte, plus for numbers the nearest double. A coarse encoding never orders two
 * values the wrong way round (it is monotone), it only ties values that differ, so index bounds stay
 * supersets and every query re-checks its full filter on the documents found. An index that has
 * stored a coarse value stops serving sort orders (see {@link SecondaryIndex#isCoarse()}).
 */
public final class KeyCodec {

  // Type bytes in MongoDB's cross-type order (MinKey < null < numbers < strings < objects < arrays <
  // binary < ObjectId < boolean < date < timestamp < regex < MaxKey).
  static final byte MIN_KEY = 0x01;
  static final byte NULL = 0x02;
  static final byte NUMBER = 0x10;
  static final byte STRING = 0x20;
  static final byte DOCUMENT = 0x30;
  static final byte ARRAY = 0x40;
  static final byte BINARY = 0x50;
  static final byte OBJECT_ID = 0x60;
  static final byte BOOLEAN = 0x70;
  static final byte DATE = (byte) 0x80;
  static final byte TIMESTAMP = (byte) 0x90;
  static final byte REGEX = (byte) 0xA0;
  static final byte MAX_KEY = (byte) 0xF0;
  /** Marks an id suffix that is not order-encodable (only uniqueness matters there). */
  private static final byte OPAQUE_ID = (byte) 0xFF;

  private static final long EXACT_LONG_LIMIT = 1L << 53;

  private KeyCodec() {}

  /** The value's encoding plus whether it is exact. */
  record Encoded(byte[] bytes, boolean exact) {}

  /** The type byte a value sorts under; used for MongoDB's type bracketing of range operators. */
  static byte typeOf(Object value) {
    if (value == null || value instanceof Missing) {
      return NULL;
    }
    if (value instanceof Number) {
      return NUMBER;
    }
    if (value instanceof String) {
      return STRING;
    }
    if (value instanceof Document) {
      return DOCUMENT;
    }
    if (value instanceof Collection) {
      return ARRAY;
    }
    if (value instanceof BinData || value instanceof UUID || value instanceof byte[]) {
      return BINARY;
    }
    if (value instanceof ObjectId) {
      return OBJECT_ID;
    }
    if (value instanceof Boolean) {
      return BOOLEAN;
    }
    if (value instanceof Instant || value instanceof Date) {
      return DATE;
    }
    if (value instanceof BsonTimestamp) {
      return TIMESTAMP;
    }
    if (value instanceof BsonRegularExpression || value instanceof Pattern) {
      return REGEX;
    }
    if (value instanceof MinKey) {
      return MIN_KEY;
    }
    if (value instanceof MaxKey) {
      return MAX_KEY;
    }
    return DOCUMENT;
  }

  /** Encodes one value (ascending). */
  static Encoded encode(Object value) {
    byte type = typeOf(value);
    switch (type) {
      case NULL, MIN_KEY, MAX_KEY:
        return new Encoded(new byte[] {type}, true);
      case NUMBER:
        return encodeNumber((Number) value);
      case STRING:
        return new Encoded(encodeString((String) value), true);
      case OBJECT_ID: {
        byte[] id = ((ObjectId) value).toByteArray();
        byte[] out = new byte[1 + id.length];
        out[0] = OBJECT_ID;
        System.arraycopy(id, 0, out, 1, id.length);
        return new Encoded(out, true);
      }
      case BOOLEAN:
        return new Encoded(new byte[] {BOOLEAN, (byte) (((Boolean) value) ? 1 : 0)}, true);
      case DATE: {
        Instant at = value instanceof Date d ? d.toInstant() : (Instant) value;
        byte[] out = new byte[13];
        out[0] = DATE;
        putLong(out, 1, at.getEpochSecond() ^ Long.MIN_VALUE);
        putInt(out, 9, at.getNano());
        return new Encoded(out, true);
      }
      default:
        return new Encoded(new byte[] {type}, false);
    }
  }

  private static Encoded encodeNumber(Number n) {
    double d;
    boolean exact;
    if (n instanceof Decimal128 dec) {
      d = dec.doubleValue();
      exact = false;
    } else if (n instanceof Long l) {
      d = l.doubleValue();
      exact = Math.abs(l) <= EXACT_LONG_LIMIT;
    } else {
      d = n.doubleValue();
      exact = true;
    }
    if (Double.isNaN(d)) {
      // MongoDB sorts NaN below every other number.
      byte[] out = new byte[9];
      out[0] = NUMBER;
      return new Encoded(out, false);
    }
    if (d == 0.0) {
      d = 0.0; // -0.0 equals 0.0
    }
    long bits = Double.doubleToLongBits(d);
    bits = bits < 0 ? ~bits : bits ^ Long.MIN_VALUE;
    byte[] out = new byte[9];
    out[0] = NUMBER;
    putLong(out, 1, bits); // never all zero: that slot is NaN's (all-ones bits are a NaN)
    return new Encoded(out, exact);
  }

  /** UTF-16 code units big-endian; a zero unit is {@code 00 00 FF}; the terminator is {@code 00 00 00}. */
  private static byte[] encodeString(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(2 * s.length() + 4);
    out.write(STRING);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      out.write(c >>> 8);
      out.write(c & 0xFF);
      if (c == 0) {
        out.write(0xFF);
      }
    }
    out.write(0);
    out.write(0);
    out.write(0);
    return out.toByteArray();
  }

  /** The suffix that makes an entry unique: the document's {@code _id}, exact where possible. */
  static byte[] idSuffix(Object id) {
    Encoded e = encode(id);
    if (e.exact()) {
      return e.bytes();
    }
    byte[] text = String.valueOf(id).getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[5 + text.length];
    out[0] = OPAQUE_ID;
    putInt(out, 1, text.length);
    System.arraycopy(text, 0, out, 5, text.length);
    return out;
  }

  static byte[] invert(byte[] bytes) {
    byte[] out = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = (byte) ~bytes[i];
    }
    return out;
  }

  /**
   * The smallest byte string greater than every string that starts with {@code prefix}, or null when
   * there is none (the prefix is all {@code 0xFF}).
   */
  static byte[] successor(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if (prefix[i] != (byte) 0xFF) {
        byte[] out = Arrays.copyOf(prefix, i + 1);
        out[i]++;
        return out;
      }
    }
    return null;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static int compare(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b);
  }

  static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static void putLong(byte[] out, int at, long v) {
    for (int i = 7; i >= 0; i--) {
      out[at + i] = (byte) v;
      v >>>= 8;
    }
  }

  private static void putInt(byte[] out, int at, int v) {
    for (int i = 3; i >= 0; i--) {
      out[at + i] = (byte) v;
      v >>>= 8;
    }
  }
}
