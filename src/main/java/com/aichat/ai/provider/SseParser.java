package com.aichat.ai.provider;

import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream format): feed it the body's chunks
 * as they arrive, split anywhere (inside a line, inside a UTF-8 character, between CR and LF), and it
 * calls the handler once per complete event. Lines end with LF, CRLF or CR; a blank line dispatches the
 * event; {@code event:} names it, {@code data:} lines are joined with LF, comments ({@code :...}) and
 * other fields are ignored. Lines are split on bytes and decoded whole, so multi-byte characters are
 * never cut.
 */
public final class SseParser {

  /** One dispatched event; {@code event} is {@code message} when the stream named none. */
  public record Event(String event, String data) {}

  private final Consumer<Event> handler;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
  private boolean skipLf;
  private String eventName;
  private StringBuilder data;

  public SseParser(Consumer<Event> handler) {
    this.handler = handler;
  }

  public void feed(Buffer chunk) {
    byte[] bytes = chunk.getBytes();
    for (byte b : bytes) {
      if (skipLf) {
        skipLf = false;
        if (b == '\n') {
          continue;
        }
      }
      if (b == '\n' || b == '\r') {
        skipLf = b == '\r';
        processLine(line.toString(StandardCharsets.UTF_8));
        line.reset();
      } else {
        line.write(b);
      }
    }
  }

  /**
   * Bytes (line) and characters (data) held for the event not yet dispatched. A stream that never
   * ends its line or event would grow this without bound; the caller checks it after each chunk.
   */
  public long pendingSize() {
    return (long) line.size() + (data == null ? 0 : data.length());
  }

  private void processLine(String text) {
    if (text.isEmpty()) {
      dispatch();
      return;
    }
    if (text.charAt(0) == ':') {
      return;
    }
    int colon = text.indexOf(':');
    String field = colon < 0 ? text : text.substring(0, colon);
    String value = colon < 0 ? "" : text.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "event" -> eventName = value;
      case "data" -> {
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      }
      default -> {
        // id, retry and unknown fields carry nothing the Messages stream needs
      }
    }
  }

  private void dispatch() {
    if (data != null) {
      handler.accept(new Event(eventName == null ? "message" : eventName, data.toString()));
    }
    eventName = null;
    data = null;
  }
}
