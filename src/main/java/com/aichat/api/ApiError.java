package com.aichat.api;

import com.aichat.contract.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A refusal decided by the HTTP API itself (validation, quota, rate limit...), rendered by
 * {@link ApiErrors} as {@code {"error":{"code","message","details"?}}} with the status of its
 * {@link ErrorCode}. The message and details are safe to show the caller; no stack trace is kept.
 */
final class ApiError extends RuntimeException {

  private final ErrorCode code;
  private final JsonObject details;
  private final Map<String, String> headers;

  private ApiError(ErrorCode code, String message, JsonObject details, Map<String, String> headers) {
    super(message, null, false, false);
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  static ApiError of(ErrorCode code, String message) {
    return new ApiError(code, message, null, Map.of());
  }

  /** 400 VALIDATION_FAILED listing each bad field: {@code details.fields[] = {field, message}}. */
  static ApiError invalidFields(Map<String, String> problems) {
    JsonArray fields = new JsonArray();
    problems.forEach((f, m) -> fields.add(new JsonObject().put("field", f).put("message", m)));
    String summary = problems.size() == 1
        ? problems.keySet().iterator().next() + " " + problems.values().iterator().next()
        : problems.size() + " fields are invalid";
    return new ApiError(ErrorCode.VALIDATION_FAILED, summary, new JsonObject().put("fields", fields), Map.of());
  }

  static ApiError invalidField(String field, String problem) {
    return invalidFields(Map.of(field, problem));
  }

  ApiError withDetails(JsonObject moreDetails) {
    return new ApiError(code, getMessage(), moreDetails, headers);
  }

  ApiError withHeader(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new ApiError(code, getMessage(), details, h);
  }

  ErrorCode code() {
    return code;
  }

  JsonObject details() {
    return details;
  }

  Map<String, String> headers() {
    return headers;
  }
}
