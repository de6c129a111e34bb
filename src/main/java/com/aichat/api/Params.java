package com.aichat.api;

import com.aichat.contract.ErrorCode;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** Path and query parameters: ids that are not ObjectIds are 404 (nothing by that id can exist). */
final class Params {

  static final int MAX_CURSOR_CHARS = 512;

  private Params() {}

  /** The path id {@code name}, lower-cased; a malformed id is NOT_FOUND like any unknown id. */
  static String pathId(RoutingContext ctx, String name, String what) {
    String v = ctx.pathParam(name);
    if (v == null || !JsonBody.OBJECT_ID.matcher(v).matches()) {
      throw ApiError.of(ErrorCode.NOT_FOUND, what + " not found");
    }
    return v.toLowerCase();
  }

  /** {@code limit}: default {@code def}, 1..{@code max}. */
  static int limit(RoutingContext ctx, int def, int max) {
    String v = single(ctx, "limit");
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 1 && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // falls through to the validation error
    }
    throw ApiError.invalidField("limit", "must be an integer from 1 to " + max);
  }

  /** An optional opaque cursor (or id) parameter. */
  static String cursor(RoutingContext ctx, String name) {
    String v = single(ctx, name);
    if (v == null) {
      return null;
    }
    if (v.isEmpty() || v.length() > MAX_CURSOR_CHARS) {
      throw ApiError.invalidField(name, "must be a cursor from a previous page or a message id");
    }
    return v;
  }

  /** An optional ObjectId query parameter; malformed is 400 (it filters, it does not address). */
  static String objectIdQuery(RoutingContext ctx, String name) {
    String v = single(ctx, name);
    if (v == null) {
      return null;
    }
    if (!JsonBody.OBJECT_ID.matcher(v).matches()) {
      throw ApiError.invalidField(name, "must be a 24-hex id");
    }
    return v.toLowerCase();
  }

  /** A query parameter given at most once (twice is 400), or null. */
  static String single(RoutingContext ctx, String name) {
    List<String> all = ctx.queryParam(name);
    if (all.isEmpty()) {
      return null;
    }
    if (all.size() > 1) {
      throw ApiError.invalidField(name, "must be given once");
    }
    return all.get(0);
  }
}
