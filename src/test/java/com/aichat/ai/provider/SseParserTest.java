package com.aichat.ai.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The incremental SSE parser")
class SseParserTest {

  private static final String STREAM =
      "event: message_start\n"
          + "data: {\"type\":\"message_start\"}\n\n"
          + ": a comment line\n"
          + "event: content_block_delta\r\n"
          + "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"héllo wörld ✓ 👋\"}}\r\n\r\n"
          + "event: ping\r"
          + "data: {\"type\": \"ping\"}\r\r"
          + "data: line one\n"
          + "data: line two\n"
          + "id: 7\n\n";

  private static List<SseParser.Event> parse(List<byte[]> pieces) {
    List<SseParser.Event> events = new ArrayList<>();
    SseParser parser = new SseParser(events::add);
    pieces.forEach(p -> parser.feed(Buffer.buffer(p)));
    return events;
  }

  private static final List<SseParser.Event> EXPECTED = List.of(
      new SseParser.Event("message_start", "{\"type\":\"message_start\"}"),
      new SseParser.Event("content_block_delta",
          "{\"type\":\"content_block_delta\",\"delta\":{\"text\":\"héllo wörld ✓ 👋\"}}"),
      new SseParser.Event("ping", "{\"type\": \"ping\"}"),
      new SseParser.Event("message", "line one\nline two"));

  @Test
  @DisplayName("parses LF, CRLF and CR framed events, comments, multi-line data and unnamed events")
  void parsesWholeStream() {
    assertThat(parse(List.of(STREAM.getBytes(StandardCharsets.UTF_8)))).isEqualTo(EXPECTED);
  }

  @Test
  @DisplayName("gives the same events whatever the chunk boundaries, even inside CRLF and multi-byte characters")
  void chunkBoundariesAnywhere() {
    byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
    for (int size = 1; size <= 9; size++) {
      List<byte[]> pieces = new ArrayList<>();
      for (int i = 0; i < bytes.length; i += size) {
        byte[] piece = new byte[Math.min(size, bytes.length - i)];
        System.arraycopy(bytes, i, piece, 0, piece.length);
        pieces.add(piece);
      }
      assertThat(parse(pieces)).as("chunks of %d bytes", size).isEqualTo(EXPECTED);
    }
  }

  @Test
  @DisplayName("does not dispatch an event until its blank line arrives")
  void waitsForBlankLine() {
    assertThat(parse(List.of("event: x\ndata: {}\n".getBytes(StandardCharsets.UTF_8)))).isEmpty();
  }

  @Test
  @DisplayName("what it holds for an unfinished event is measurable, and released once the event is dispatched")
  void pendingSizeIsBounded() {
    List<SseParser.Event> events = new ArrayList<>();
    SseParser parser = new SseParser(events::add);
    parser.feed(Buffer.buffer("data: " + "x".repeat(5000)));
    assertThat(parser.pendingSize()).isEqualTo(5006);
    parser.feed(Buffer.buffer("\ndata: y\n"));
    assertThat(parser.pendingSize()).isEqualTo(5002);
    parser.feed(Buffer.buffer("\n"));
    assertThat(events).hasSize(1);
    assertThat(parser.pendingSize()).isZero();
  }
}
