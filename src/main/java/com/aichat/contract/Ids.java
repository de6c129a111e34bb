package com.aichat.contract;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The one form of an id inside the service: 24 lower-case hex digits (an ObjectId as MongoDB renders
 * it). Ids are compared as strings everywhere (rooms, maps, bus events), so every boundary that takes
 * an id from outside (REST paths and bodies, socket events, bus requests and events) passes it through
 * {@link #normalize} or {@link #lowerIfId} first: {@code 65AB...} and {@code 65ab...} are one id.
 */
public final class Ids {

  /** A 24-hex ObjectId in either case. */
  public static final Pattern OBJECT_ID = Pattern.compile("[0-9a-fA-F]{24}");

  private Ids() {}

  public static boolean isObjectId(Object v) {
    return v instanceof String s && OBJECT_ID.matcher(s).matches();
  }

  /** The lower-case form of a valid id, or null when {@code v} is not a 24-hex string. */
  public static String normalize(Object v) {
    return isObjectId(v) ? ((String) v).toLowerCase(Locale.ROOT) : null;
  }

  /** The lower-case form of a valid id; anything else unchanged (for values validated elsewhere). */
  public static String lowerIfId(String v) {
    return isObjectId(v) ? v.toLowerCase(Locale.ROOT) : v;
  }
}
