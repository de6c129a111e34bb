package com.aichat.contract;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * Where a reply waits in the dispatcher's queue, estimated when it was queued. JSON: {@code {position,
 * queued, expectedStartMs?, expectedStartAt?}}.
 *
 * @param position 1 = the next reply to start; counted in the dispatcher's fair (round-robin across
 *     users) order, so a later first message of another user may still be placed ahead of a user's
 *     deep backlog
 * @param queued replies waiting in that dispatcher in all
 * @param expectedStartMs the expected wait until generation starts, from the measured time per job,
 *     the known worker slots and the slots one user may hold; absent while the dispatcher has not measured it yet (no job finished, or no
 *     worker known)
 * @param expectedStartAt now + {@code expectedStartMs}, ISO-8601; absent with it
 */
public record QueuePosition(int position, int queued, Long expectedStartMs, Instant expectedStartAt) {

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("position", position).put("queued", queued);
    Json.putOpt(o, "expectedStartMs", expectedStartMs);
    return Json.putOpt(o, "expectedStartAt", Json.iso(expectedStartAt));
  }

  public static QueuePosition fromJson(JsonObject o) {
    return o == null
        ? null
        : new QueuePosition(o.getInteger("position", 0), o.getInteger("queued", 0), o.getLong("expectedStartMs"),
            Json.instant(o, "expectedStartAt"));
  }
}
