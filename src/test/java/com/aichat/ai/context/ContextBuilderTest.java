package com.aichat.ai.context;

import static org.assertj.core.api.Assertions.assertThat;

import com.aichat.ai.context.ContextBuilder.BuiltContext;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("The context builder's turn rules, limits and counts")
class ContextBuilderTest {

  private static ChatMessage msg(MessageType type, MessageStatus status, String content) {
    Instant now = Instant.now();
    return new ChatMessage("id", "s", "u", type, content, status, null, null, null, null, null, null, 0, null, now, now);
  }

  private static ChatMessage user(String text) {
    return msg(MessageType.USER, MessageStatus.COMPLETED, text);
  }

  private static ChatMessage ai(String text) {
    return msg(MessageType.AI_REPORT, MessageStatus.COMPLETED, text);
  }

  /** Chronological input, returned newest first as loadHistory does. */
  private static List<ChatMessage> newestFirst(ChatMessage... chronological) {
    List<ChatMessage> list = new ArrayList<>(List.of(chronological));
    Collections.reverse(list);
    return list;
  }

  @Test
  @DisplayName("drops leading assistant turns, merges same-role neighbours, excludes errors and unfinished replies")
  void turnRules() {
    ContextBuilder b = new ContextBuilder(40, 10_000, 4);
    BuiltContext ctx = b.build(newestFirst(
        ai("orphan answer"),
        user("u1"),
        ai("a1"),
        msg(MessageType.AI_ERROR, MessageStatus.FAILED, "boom"),
        user("u2"),
        msg(MessageType.AI_REPORT, MessageStatus.PENDING, ""),
        user("u3"),
        ai("a3"),
        msg(MessageType.AI_REPORT, MessageStatus.CANCELLED, "partial")), "q");
    assertThat(ctx.turns()).containsExactly(
        new Turn("user", "u1"),
        new Turn("assistant", "a1"),
        new Turn("user", "u2\n\nu3"),
        new Turn("assistant", "a3"),
        new Turn("user", "q"));
    assertThat(ctx.cacheBreakpoint()).isEqualTo(3);
    assertThat(ctx.messagesUsed()).isEqualTo(5);
    assertThat(ctx.messagesDropped()).isEqualTo(1);
  }

  @Test
  @DisplayName("the new question merges into a trailing user turn and the breakpoint stays on the prefix")
  void questionMergesIntoTrailingUserTurn() {
    BuiltContext ctx = new ContextBuilder(40, 10_000, 4).build(newestFirst(user("u1"), ai("a1"), user("u2")), "q");
    assertThat(ctx.turns()).containsExactly(
        new Turn("user", "u1"), new Turn("assistant", "a1"), new Turn("user", "u2\n\nq"));
    assertThat(ctx.cacheBreakpoint()).isEqualTo(1);
  }

  @Test
  @DisplayName("a first question has no history and no cache breakpoint")
  void noHistory() {
    BuiltContext ctx = new ContextBuilder(40, 10_000, 4).build(List.of(), "q");
    assertThat(ctx.turns()).containsExactly(new Turn("user", "q"));
    assertThat(ctx.cacheBreakpoint()).isEqualTo(-1);
    assertThat(ctx.messagesUsed()).isZero();
    assertThat(ctx.messagesDropped()).isZero();
  }

  @Test
  @DisplayName("the token budget (ceil(chars / chars_per_token)) keeps the newest messages and counts the rest as dropped")
  void tokenBudget() {
    // 8 chars = 2 tokens each at 4 chars per token; a budget of 5 tokens keeps the newest two
    ContextBuilder b = new ContextBuilder(40, 5, 4);
    assertThat(b.estimateTokens("12345678")).isEqualTo(2);
    assertThat(b.estimateTokens("123456789")).isEqualTo(3);
    BuiltContext ctx = b.build(newestFirst(user("user-001"), ai("answer01"), user("user-002"), ai("answer02")), "q");
    assertThat(ctx.turns()).containsExactly(
        new Turn("user", "user-002"), new Turn("assistant", "answer02"), new Turn("user", "q"));
    assertThat(ctx.messagesUsed()).isEqualTo(2);
    assertThat(ctx.messagesDropped()).isEqualTo(2);
  }

  @Test
  @DisplayName("the turn limit cuts the window, and the probe message beyond it counts as dropped")
  void turnLimit() {
    ContextBuilder b = new ContextBuilder(2, 10_000, 4);
    assertThat(b.readLimit()).isEqualTo(3);
    // what loadHistory returns with limit 3 from a longer session: newest three
    BuiltContext ctx = b.build(newestFirst(ai("a1"), user("u2"), ai("a2")), "q");
    assertThat(ctx.turns()).containsExactly(new Turn("user", "u2"), new Turn("assistant", "a2"), new Turn("user", "q"));
    assertThat(ctx.messagesUsed()).isEqualTo(2);
    assertThat(ctx.messagesDropped()).isEqualTo(1);
  }
}
