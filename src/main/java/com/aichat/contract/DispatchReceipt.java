package com.aichat.contract;

import io.vertx.core.json.JsonObject;

/**
 * The answer to an {@link Addresses#DISPATCH} request: {@code {dispatched: true, queue?, load?,
 * userRetryAfterMs?}}, given as soon as the reply is handed to a worker or queued (local mode) or its
 * Cloud Task exists ({@code cloud-tasks} mode).
 *
 * @param queue where the reply waits; null when a worker took it at once (or in {@code cloud-tasks}
 *     mode)
 * @param load the local dispatcher's queue right after this request (null in {@code cloud-tasks} mode)
 * @param userRetryAfterMs non-null when the request's user is now at a per-user limit: their next send
 *     would be refused, and may be retried after this long
 */
public record DispatchReceipt(QueuePosition queue, DispatchLoad load, Long userRetryAfterMs) {

  public static final DispatchReceipt HANDED_OVER = new DispatchReceipt(null, null, null);

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("dispatched", true);
    Json.putOpt(o, "queue", queue == null ? null : queue.toJson());
    Json.putOpt(o, "load", load == null ? null : load.withoutRefusedUsers().toJson());
    return Json.putOpt(o, "userRetryAfterMs", userRetryAfterMs);
  }

  public static DispatchReceipt fromJson(JsonObject o) {
    JsonObject load = o.getJsonObject("load");
    return new DispatchReceipt(QueuePosition.fromJson(o.getJsonObject("queue")),
        load == null ? null : DispatchLoad.fromJson(load), o.getLong("userRetryAfterMs"));
  }
}
