package com.aichat.api;

import com.aichat.contract.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and validates a JSON request body. A body that is present must be declared
 * {@code application/json} (or {@code +json}), else 415; it must parse as a JSON object, else 400; and
 * it may only contain the fields the operation knows, else 400 naming them. Field checks collect every
 * problem before failing, so one 400 lists all bad fields.
 */
final class JsonBody {

  static final Pattern OBJECT_ID = Pattern.compile("[0-9a-fA-F]{24}");

  private final JsonObject json;
  private final Map<String, String> problems = new LinkedHashMap<>();

  private JsonBody(JsonObject json) {
    this.json = json;
  }

  /**
   * The body of {@code ctx}. With {@code required} false an absent body reads as {@code {}}; with
   * {@code required} true an absent body is 415 without a JSON content type, else 400.
   */
  static JsonBody read(RoutingContext ctx, Set<String> allowedFields, boolean required) {
    Buffer buf = ctx.body().buffer();
    boolean empty = buf == null || buf.length() == 0;
    boolean jsonType = isJson(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE));
    if (empty && !required) {
      return new JsonBody(new JsonObject());
    }
    if (!jsonType) {
      throw ApiError.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "body must be application/json");
    }
    if (empty) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "request body must be a JSON object");
    }
    if (!isUtf8(buf)) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "request body is not valid UTF-8");
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(buf);
    } catch (DecodeException e) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "malformed JSON body");
    }
    if (!(parsed instanceof JsonObject obj)) {
      throw ApiError.of(ErrorCode.VALIDATION_FAILED, "request body must be a JSON object");
    }
    Map<String, String> unknown = new LinkedHashMap<>();
    for (String f : obj.fieldNames()) {
      if (!allowedFields.contains(f)) {
        unknown.put(f, "is not a known field");
      }
    }
    if (!unknown.isEmpty()) {
      throw ApiError.invalidFields(unknown);
    }
    return new JsonBody(obj);
  }

  /** Strict UTF-8: a malformed byte would otherwise be stored as U+FFFD, silently changing the text. */
  static boolean isUtf8(Buffer buf) {
    try {
      StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(buf.getBytes()));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /**
   * The first reason {@code s} cannot be stored as text, or null: an unpaired surrogate (a JSON
   * {@code \ud800} escape, which no store can encode as UTF-8) or a control character other than tab,
   * line feed and carriage return.
   */
  static String textProblem(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return "must be valid Unicode (no unpaired surrogates)";
      } else if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
        return "must not contain control characters";
      }
    }
    return null;
  }

  static boolean isJson(String contentType) {
    if (contentType == null) {
      return false;
    }
    String mime = contentType.split(";", 2)[0].trim().toLowerCase();
    return mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json"));
  }

  boolean has(String field) {
    return json.containsKey(field);
  }

  /**
   * A string field of {@code min}..{@code max} characters (Unicode code points), trimmed first when
   * {@code trim}; null when absent (or when it was invalid, with the problem recorded). With
   * {@code required} an absent field is a problem too. Strings that are blank are invalid.
   */
  String string(String field, int min, int max, boolean trim, boolean required) {
    if (!json.containsKey(field)) {
      if (required) {
        problems.put(field, "is required");
      }
      return null;
    }
    if (!(json.getValue(field) instanceof String raw)) {
      problems.put(field, "must be a string");
      return null;
    }
    String bad = textProblem(raw);
    if (bad != null) {
      problems.put(field, bad);
      return null;
    }
    String s = trim ? raw.strip() : raw;
    int len = s.codePointCount(0, s.length());
    if (len < min || len > max || s.isBlank()) {
      problems.put(field, "must be " + min + "-" + max + " characters" + (trim ? " after trimming" : "")
          + " and not blank");
      return null;
    }
    return s;
  }

  /** An optional 24-hex ObjectId field, lower-cased. */
  String objectId(String field) {
    if (!json.containsKey(field)) {
      return null;
    }
    if (!(json.getValue(field) instanceof String s) || !OBJECT_ID.matcher(s).matches()) {
      problems.put(field, "must be a 24-hex id");
      return null;
    }
    return s.toLowerCase();
  }

  /** Fails with every problem found so far. */
  void validate() {
    if (!problems.isEmpty()) {
      throw ApiError.invalidFields(problems);
    }
  }
}
