package com.aichat.ai.context;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.context.ContextBuilder.BuiltContext;
import com.aichat.ai.context.ContextBuilder.Keep;
import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.ai.provider.OfflineModel;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Compaction in the context builder: the summary ahead of the window, the trigger, and where a summary ends")
class CompactionContextTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  /** {@code n} history messages, user and ai_report alternating, one second apart, chronological. */
  private static List<ChatMessage> history(int n, int chars) {
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String text = ("m" + i + " ").repeat(chars).substring(0, chars);
      out.add(new ChatMessage(String.format("%024x", i + 1), "s", "u",
          i % 2 == 0 ? MessageType.USER : MessageType.AI_REPORT, text, MessageStatus.COMPLETED, null, null, null,
          null, null, null, 0, null, T0.plusSeconds(i), T0.plusSeconds(i)));
    }
    return out;
  }

  private static List<ChatMessage> newestFirst(List<ChatMessage> chronological) {
    List<ChatMessage> list = new ArrayList<>(chronological);
    Collections.reverse(list);
    return list;
  }

  private static CompactionSettings on() {
    return new CompactionSettings("estimate", true, null, 256, CompactionSettings.DEFAULT_PROMPT, 80, 40, 200);
  }

  private static SessionSummary coveringThrough(ChatMessage m, long version, long covered) {
    return new SessionSummary(version, "the story so far", m.id(), m.createdAt(), covered, "m", T0);
  }

  @Test
  @DisplayName("with a summary, the window starts right after the last covered message and the summary goes in its own block")
  void windowStartsAfterTheSummary() {
    List<ChatMessage> h = history(30, 40);
    ContextBuilder b = new ContextBuilder(40, 100_000, 4, on());
    SessionSummary s = coveringThrough(h.get(19), 3, 20);
    BuiltContext ctx = b.build(newestFirst(h), "q", s);
    assertThat(ctx.messagesUsed()).isEqualTo(10);
    assertThat(ctx.messagesDropped()).isEqualTo(20);
    assertThat(ctx.messagesDroppedUncovered()).isZero();
    assertThat(ctx.turns().get(0).text()).isEqualTo(h.get(20).content());
    assertThat(ctx.summary()).isEqualTo(s);
    assertThat(ctx.summaryBlock()).contains("summary version 3").contains("first 20 messages").endsWith("the story so far");
    ModelRequest req = ctx.toRequest("sys");
    assertThat(req.summaryBlock()).isEqualTo(ContextBuilder.summaryBlock(s));
    assertThat(b.estimateInput(req)).isEqualTo(b.estimateTokens("sys") + b.estimateTokens(ctx.summaryBlock())
        + ctx.turns().stream().mapToLong(t -> b.estimateTokens(t.text())).sum());
    assertThat(ctx.needsSummary()).isFalse();
  }

  @Test
  @DisplayName("the summary's tokens count against token_budget; what the window cannot hold and the summary does not cover triggers the job")
  void summaryCountsAgainstTheBudget() {
    List<ChatMessage> h = history(20, 100); // 25 tokens each
    SessionSummary s = coveringThrough(h.get(1), 1, 2);
    long blockTokens = new ContextBuilder(40, 1, 4).estimateTokens(ContextBuilder.summaryBlock(s));
    int budget = (int) blockTokens + 25 * 6;
    ContextBuilder b = new ContextBuilder(40, budget, 4, on());
    BuiltContext ctx = b.build(newestFirst(h), "q", s);
    assertThat(ctx.messagesUsed()).isEqualTo(6);
    assertThat(ctx.historyTokens()).isEqualTo(blockTokens + 150).isLessThanOrEqualTo(budget);
    assertThat(ctx.messagesDroppedUncovered()).isEqualTo(12);
    assertThat(ctx.messagesDropped()).isEqualTo(14);
    assertThat(ctx.needsSummary()).isTrue();
  }

  @Test
  @DisplayName("the job is asked for when the window reaches trigger_percent of max_turns, not before")
  void triggerAtThePercentOfTheTurnLimit() {
    ContextBuilder b = new ContextBuilder(10, 100_000, 4, on());
    assertThat(b.build(newestFirst(history(7, 10)), "q", null).needsSummary()).isFalse();
    assertThat(b.build(newestFirst(history(8, 10)), "q", null).needsSummary()).isTrue();
  }

  @Test
  @DisplayName("compaction off: the summary is ignored, the window is the plain one and nothing asks for a summary")
  void disabledIgnoresTheSummary() {
    List<ChatMessage> h = history(60, 10);
    ContextBuilder b = new ContextBuilder(40, 100_000, 4, CompactionSettings.DISABLED);
    BuiltContext ctx = b.build(newestFirst(h).subList(0, 41), "q", coveringThrough(h.get(30), 1, 31));
    assertThat(ctx.summaryBlock()).isNull();
    assertThat(ctx.messagesUsed()).isEqualTo(40);
    assertThat(ctx.turns().get(0).text()).isEqualTo(h.get(20).content());
    assertThat(ctx.needsSummary()).isFalse();
    assertThat(ctx.toRequest("sys").summaryBlock()).isNull();
  }

  @Test
  @DisplayName("a summary keeps the newest keep_percent of the window out of it, starting at a user message")
  void planKeepLeavesTheNewestPart() {
    ContextBuilder b = new ContextBuilder(10, 100_000, 4, on());
    List<ChatMessage> h = history(30, 10);
    Keep keep = b.planKeep(newestFirst(h).subList(0, 11));
    // 40% of 10 turns = 4 newest: messages 26..29, the oldest kept (26) is a user message
    assertThat(keep.id()).isEqualTo(h.get(26).id());
    assertThat(keep.createdAt()).isEqualTo(h.get(26).createdAt());
    assertThat(b.planKeep(newestFirst(history(3, 10)))).isEqualTo(Keep.ALL);
    ContextBuilder none = new ContextBuilder(10, 100_000, 4,
        new CompactionSettings("estimate", true, null, 256, "p", 80, 0, 200));
    assertThat(none.planKeep(newestFirst(h).subList(0, 11))).isEqualTo(Keep.NONE);
  }

  @Test
  @DisplayName("one summary run folds in at most max_chunk_messages and does not end on a user message")
  void chunkIsBounded() {
    ContextBuilder b = new ContextBuilder(10, 100_000, 4,
        new CompactionSettings("estimate", true, null, 256, "p", 80, 40, 5));
    List<ChatMessage> chunk = b.chunk(history(12, 10));
    assertThat(chunk).hasSize(4);
    assertThat(chunk.get(3).messageType()).isEqualTo(MessageType.AI_REPORT);
    assertThat(b.chunk(history(5, 10))).hasSize(5);
  }

  @Test
  @DisplayName("the summary request carries the previous summary and a one-line-per-message transcript; the offline model summarises it deterministically")
  void summaryRequestAndOfflineSummary() {
    List<ChatMessage> h = history(4, 10);
    SessionSummary prev = new SessionSummary(2, "[Offline summary by offline-echo-1, written locally and deterministically: "
        + "6 messages folded in so far.]\n- The user said: \"first\"", h.get(0).id(), T0, 6, "offline-echo-1", T0);
    ModelRequest req = SummaryRequest.of(on(), prev, h);
    assertThat(req.system()).isEqualTo(CompactionSettings.DEFAULT_PROMPT);
    assertThat(req.turns()).hasSize(1);
    String prompt = req.question();
    assertThat(prompt).contains("<previous-summary>").contains("<transcript>\nUser: " + h.get(0).content()
        + "\nAssistant: " + h.get(1).content() + "\n");
    String summary = OfflineModel.composeSummary(req);
    assertThat(summary).isEqualTo(OfflineModel.composeSummary(SummaryRequest.of(on(), prev, h)));
    assertThat(summary).contains("10 messages folded in so far").contains("- The user said: \"first\"")
        .contains("- The user said: \"" + h.get(2).content() + "\"");
    assertThat(new Turn("user", "x").role()).isEqualTo("user");
  }
}
