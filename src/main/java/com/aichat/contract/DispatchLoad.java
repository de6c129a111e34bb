package com.aichat.contract;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A local dispatcher's queue, as the HTTP API needs it to refuse sends up front: published on
 * {@link Addresses#DISPATCH_LOAD} every {@code dispatch.load_interval_ms} while it changes (and at least
 * once a second), and carried, without {@code refusedUsers}, in each {@link DispatchReceipt}. JSON:
 * {@code {dispatcherId, version, queued, users, slots, jobMs?, newcomerWaitMs?, drainMs?,
 * refusedUsers?: [{userId, retryAfterMs}], atMs}}.
 *
 * @param dispatcherId the publishing dispatcher instance
 * @param version increases with every snapshot of that dispatcher; a reader keeps the highest
 * @param queued replies waiting for a worker slot
 * @param users users with at least one waiting reply
 * @param slots generation slots of the workers this dispatcher knows
 * @param jobMs the measured mean time a job holds a slot (null until a job finished)
 * @param newcomerWaitMs the expected wait of a user who has nothing queued (null while unknown)
 * @param drainMs the expected time until the whole queue has started (null while unknown)
 * @param refusedUsers users whose next send would be refused (their own backlog is at
 *     {@code dispatch.max_queued_per_user}, or its expected start is beyond
 *     {@code dispatch.max_queue_wait_ms}), with when to retry
 * @param atMs the dispatcher's clock when the snapshot was taken
 */
public record DispatchLoad(
    String dispatcherId,
    long version,
    int queued,
    int users,
    int slots,
    Long jobMs,
    Long newcomerWaitMs,
    Long drainMs,
    Map<String, Long> refusedUsers,
    long atMs) {

  public JsonObject toJson() {
    JsonObject o = new JsonObject()
        .put("dispatcherId", dispatcherId)
        .put("version", version)
        .put("queued", queued)
        .put("users", users)
        .put("slots", slots);
    Json.putOpt(o, "jobMs", jobMs);
    Json.putOpt(o, "newcomerWaitMs", newcomerWaitMs);
    Json.putOpt(o, "drainMs", drainMs);
    if (!refusedUsers.isEmpty()) {
      JsonArray refused = new JsonArray();
      refusedUsers.forEach((u, ms) -> refused.add(new JsonObject().put("userId", u).put("retryAfterMs", ms)));
      o.put("refusedUsers", refused);
    }
    return o.put("atMs", atMs);
  }

  public static DispatchLoad fromJson(JsonObject o) {
    Map<String, Long> refused = new LinkedHashMap<>();
    JsonArray arr = o.getJsonArray("refusedUsers");
    if (arr != null) {
      for (Object x : arr) {
        JsonObject r = (JsonObject) x;
        refused.put(r.getString("userId"), r.getLong("retryAfterMs", 1000L));
      }
    }
    return new DispatchLoad(o.getString("dispatcherId"), o.getLong("version", 0L), o.getInteger("queued", 0),
        o.getInteger("users", 0), o.getInteger("slots", 0), o.getLong("jobMs"), o.getLong("newcomerWaitMs"),
        o.getLong("drainMs"), refused, o.getLong("atMs", 0L));
  }

  /** The same snapshot without the refused-user list (the form carried in a receipt). */
  public DispatchLoad withoutRefusedUsers() {
    return new DispatchLoad(dispatcherId, version, queued, users, slots, jobMs, newcomerWaitMs, drainMs, Map.of(),
        atMs);
  }
}
