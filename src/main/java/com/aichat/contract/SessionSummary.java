package com.aichat.contract;

import static com.aichat.contract.Json.instant;
import static com.aichat.contract.Json.iso;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The rolling summary of a session's older history (field {@code summary} of the session document,
 * docs/context.md). It covers every eligible message up to and including
 * {@code (coversThroughCreatedAt, coversThroughMessageId)} in {@code (createdAt, _id)} order; replies
 * send it in a system block ahead of the history window, which then starts after that message.
 *
 * <pre>{version, text, coversThroughMessageId, coversThroughCreatedAt, messagesCovered, model, updatedAt}</pre>
 *
 * {@code version} starts at 1 and grows by one with each summary the summary job writes; a write is
 * conditional on the version it read, so two jobs can never both advance it from the same version.
 */
public record SessionSummary(
    long version,
    String text,
    String coversThroughMessageId,
    Instant coversThroughCreatedAt,
    long messagesCovered,
    String model,
    Instant updatedAt) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("version", version)
        .put("text", text)
        .put("coversThroughMessageId", coversThroughMessageId)
        .put("coversThroughCreatedAt", iso(coversThroughCreatedAt))
        .put("messagesCovered", messagesCovered)
        .put("model", model)
        .put("updatedAt", iso(updatedAt));
  }

  public static SessionSummary fromJson(JsonObject o) {
    return o == null
        ? null
        : new SessionSummary(
            o.getLong("version", 0L),
            o.getString("text", ""),
            o.getString("coversThroughMessageId"),
            instant(o, "coversThroughCreatedAt"),
            o.getLong("messagesCovered", 0L),
            o.getString("model"),
            instant(o, "updatedAt"));
  }
}
