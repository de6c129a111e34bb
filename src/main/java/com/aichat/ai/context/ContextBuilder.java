package com.aichat.ai.context;

import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Turns a history window into Claude's alternating {@code messages} (DESIGN.md §4). Pure: the worker
 * reads the window with one {@code loadHistory} call of {@link #readLimit()} messages, newest first,
 * and passes it here with the new question.
 *
 * <p>Rules, in order:
 *
 * <ol>
 *   <li>only {@code user} messages and {@code completed} {@code ai_report}s with text count
 *       ({@code ai_error}, pending, processing, failed and cancelled replies are excluded);
 *   <li>newest first, messages are taken while they fit {@code context.max_turns} and the token budget
 *       {@code context.token_budget}, estimated as {@code ceil(chars / context.chars_per_token)} per
 *       message; the first one that does not fit ends the window (older ones are never skipped to);
 *   <li>in chronological order, leading assistant turns are dropped (the first turn must be the user's);
 *   <li>consecutive turns of the same role are merged into one, joined by a blank line;
 *   <li>the new question is appended as the final user turn (merged into a trailing user turn, e.g. when
 *       the previous reply failed or is still pending).
 * </ol>
 *
 * <p>{@code messagesUsed} is the number of history messages sent. {@code messagesDropped} is the number
 * of eligible history messages that were read but not sent: cut by the budget or the turn limit, or
 * dropped as leading assistant turns. The window is read with one extra message beyond
 * {@code max_turns} as a probe, so a session with more history than the limit reports at least one
 * dropped message; the whole session is never counted, to keep the cost independent of its length, so
 * for long sessions {@code messagesDropped} is a lower bound.
 */
public final class ContextBuilder {

  private final int maxTurns;
  private final int tokenBudget;
  private final int charsPerToken;

  public ContextBuilder(int maxTurns, int tokenBudget, int charsPerToken) {
    this.maxTurns = maxTurns;
    this.tokenBudget = tokenBudget;
    this.charsPerToken = charsPerToken;
  }

  /** The built context: the request's turns and the counts recorded on the reply. */
  public record BuiltContext(List<Turn> turns, int cacheBreakpoint, int messagesUsed, int messagesDropped) {

    public ModelRequest toRequest(String system) {
      return new ModelRequest(system, turns, cacheBreakpoint);
    }
  }

  /** How many messages the worker reads: the turn limit plus one probe. */
  public int readLimit() {
    return maxTurns + 1;
  }

  /** The documented token estimate. */
  public long estimateTokens(String text) {
    return (text.length() + (long) charsPerToken - 1) / charsPerToken;
  }

  /**
   * @param historyNewestFirst the window from {@code loadHistory}, newest first
   * @param question the new user message's text
   */
  public BuiltContext build(List<ChatMessage> historyNewestFirst, String question) {
    List<ChatMessage> eligible = historyNewestFirst.stream().filter(ContextBuilder::eligible).toList();
    List<ChatMessage> window = new ArrayList<>();
    long tokens = 0;
    for (ChatMessage m : eligible) {
      long t = estimateTokens(m.content());
      if (window.size() >= maxTurns || tokens + t > tokenBudget) {
        break;
      }
      window.add(m);
      tokens += t;
    }
    List<ChatMessage> chronological = new ArrayList<>(window);
    Collections.reverse(chronological);
    while (!chronological.isEmpty() && chronological.get(0).messageType() != MessageType.USER) {
      chronological.remove(0);
    }
    int used = chronological.size();
    int dropped = eligible.size() - used;

    List<Turn> turns = new ArrayList<>();
    for (ChatMessage m : chronological) {
      append(turns, m.messageType() == MessageType.USER ? Turn.USER : Turn.ASSISTANT, m.content());
    }
    int historyTurns = turns.size();
    append(turns, Turn.USER, question);
    // The breakpoint ends the reusable prefix: the last turn before the final user turn.
    int breakpoint = turns.size() >= 2 ? turns.size() - 2 : -1;
    if (historyTurns == 0) {
      breakpoint = -1;
    }
    return new BuiltContext(List.copyOf(turns), breakpoint, used, dropped);
  }

  private static void append(List<Turn> turns, String role, String text) {
    if (!turns.isEmpty() && turns.get(turns.size() - 1).role().equals(role)) {
      Turn last = turns.remove(turns.size() - 1);
      turns.add(new Turn(role, last.text() + "\n\n" + text));
    } else {
      turns.add(new Turn(role, text));
    }
  }

  private static boolean eligible(ChatMessage m) {
    if (m.content() == null || m.content().isBlank()) {
      return false;
    }
    if (m.messageType() == MessageType.USER) {
      return true;
    }
    return m.messageType() == MessageType.AI_REPORT && m.status() == MessageStatus.COMPLETED;
  }
}
