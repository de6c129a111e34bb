package com.aichat.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The web client's Markdown renderer under hostile content (issue 24 finding 7), run by node on the
 * module the page loads ({@code src/test/js/markdown-render.mjs} reports, this class asserts). Before
 * the fix, 5,094 nested {@code >} overflowed the stack and a 32,000-character run of {@code [a](} took
 * about 2.5 s to render (quadratic), hundreds of times ordinary text of that length.
 */
@DisplayName("Web client Markdown: linear time, bounded nesting, and an error boundary per message")
class MarkdownRendererTest {

  /** Hostile input may take at most this many times as long as ordinary Markdown of the same length. */
  static final double MAX_RATIO = 5;

  static JsonObject result;

  @BeforeAll
  static void run() throws IOException, InterruptedException {
    // a small V8 stack (200 KB): the default nesting limit fits many times over, an unlimited one does not
    Process p = new ProcessBuilder(List.of("node", "--stack-size=200", "markdown-render.mjs"))
        .directory(Path.of("src/test/js").toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("node finished").isTrue();
    assertThat(p.exitValue()).as("node's exit status; output: %s", out).isZero();
    String line = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElseThrow(
        () -> new AssertionError("no RESULT line from node: " + out));
    result = new JsonObject(line.substring("RESULT ".length()));
    LoggerFactory.getLogger(MarkdownRendererTest.class).info("render times (ms, best of 7): {}", result.getJsonObject("timings"));
  }

  @Test
  @DisplayName("32,000 characters of [a](, ![a](, [, **a, __a, ~~a and backtick runs render within 5x ordinary Markdown of that length")
  void linearTime() {
    JsonObject t = result.getJsonObject("timings");
    double benign = t.getDouble("benign");
    assertThat(benign).isPositive();
    for (String name : t.fieldNames()) {
      assertThat(t.getDouble(name) / benign).as("%s: %s ms against %s ms", name, t.getDouble(name), benign)
          .isLessThanOrEqualTo(MAX_RATIO);
    }
  }

  @Test
  @DisplayName("5,094 nested > on one line, or one more level on each of 3,000 lines, render 32 levels and the rest as text")
  void nestingIsCapped() {
    JsonObject cases = result.getJsonObject("cases");
    assertThat(result.getInteger("defaultMaxQuoteDepth")).isEqualTo(WebClientSettings.DEFAULT_MARKDOWN_MAX_QUOTE_DEPTH);
    for (String name : List.of("deep", "stairs")) {
      JsonObject c = cases.getJsonObject(name);
      assertThat(c.getBoolean("ok")).as("%s rendered: %s", name, c).isTrue();
      assertThat(c.getInteger("blockquotes")).as(name).isEqualTo(WebClientSettings.DEFAULT_MARKDOWN_MAX_QUOTE_DEPTH);
    }
    assertThat(cases.getJsonObject("deep").getString("tail")).endsWith("</blockquote>");
    assertThat(cases.getJsonObject("capped").getString("html"))
        .isEqualTo("<blockquote><blockquote><p>&gt;&gt; four</p></blockquote></blockquote>");
  }

  @Test
  @DisplayName("A message that cannot be formatted (the stack overflows) comes out of renderMessage as escaped plain text")
  void errorBoundary() {
    JsonObject cases = result.getJsonObject("cases");
    assertThat(cases.getJsonObject("unbounded").getBoolean("ok")).as("without the limit the renderer itself throws").isFalse();
    assertThat(cases.getJsonObject("unbounded").getString("error")).contains("RangeError");
    JsonObject boundary = cases.getJsonObject("boundary");
    assertThat(boundary.getBoolean("ok")).as("renderMessage never throws: %s", boundary).isTrue();
    assertThat(boundary.getBoolean("failedClass")).isTrue();
    assertThat(boundary.getBoolean("img")).as("no element from the content").isFalse();
    assertThat(boundary.getBoolean("escapedImg")).isTrue();
  }

  @Test
  @DisplayName("Formatting still works: bold, italic, code (runs of equal length), safe links; a javascript: link stays text")
  void formattingStillWorks() {
    assertThat(result.getJsonObject("cases").getJsonObject("formatting").getString("html")).isEqualTo(
        "<p><strong>b</strong> <em>i</em> <code>c</code> "
            + "<a href=\"https://a.example/p\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">x</a> "
            + "[y](javascript:alert(1)) <del>d</del> <code>e ` f</code></p>");
  }
}
