package com.aichat.contract;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.function.Function;

/**
 * One page of a cursor-paginated list. JSON: {@code {items: [...], nextCursor: string|null}}.
 * Cursors are opaque to clients.
 */
public record Page<T>(List<T> items, String nextCursor) {

  public JsonObject toJson(Function<T, JsonObject> render) {
    JsonArray arr = new JsonArray();
    items.forEach(i -> arr.add(render.apply(i)));
    return new JsonObject().put("items", arr).put("nextCursor", nextCursor);
  }

  public static <T> Page<T> fromJson(JsonObject o, Function<JsonObject, T> parse) {
    List<T> list =
        o.getJsonArray("items", new JsonArray()).stream()
            .map(x -> parse.apply((JsonObject) x))
            .toList();
    return new Page<>(list, o.getString("nextCursor"));
  }
}
