package com.aichat.ai.context;

import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageStatus;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Turns a history window into Claude's alternating {@code messages} (docs/context.md).
 * Pure: the worker reads the window with one {@code loadHistory} call of {@link #readLimit()} messages,
 * newest first, and passes it here with the new question and the session's summary.
 *
 * <p>Rules, in order:
 *
 * <ol>
 *   <li>only {@code user} messages and {@code completed} {@code ai_report}s with text count
 *       ({@code ai_error}, pending, processing, failed and cancelled replies are excluded);
 *   <li>with compaction on and a session summary, messages the summary covers are left out, and the
 *       summary goes ahead of the window as a system block; its estimated tokens count against
 *       {@code context.token_budget};
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
 * of eligible history messages that were read but not sent: cut by the budget or the turn limit,
 * dropped as leading assistant turns, or covered by the summary. The window is read with one extra
 * message beyond {@code max_turns} as a probe, so a session with more history than the limit reports at
 * least one dropped message; the whole session is never counted, to keep the cost independent of its
 * length, so for long sessions {@code messagesDropped} is a lower bound. {@code messagesDroppedUncovered}
 * counts the dropped messages the summary does not cover; any of them, or a window that reached
 * {@code trigger_percent} of the limits, asks for the summary job ({@link BuiltContext#needsSummary()}).
 */
public final class ContextBuilder {

  private final int maxTurns;
  private final int tokenBudget;
  private final int charsPerToken;
  private final CompactionSettings compaction;

  public ContextBuilder(int maxTurns, int tokenBudget, int charsPerToken) {
    this(maxTurns, tokenBudget, charsPerToken, CompactionSettings.DISABLED);
  }

  public ContextBuilder(int maxTurns, int tokenBudget, int charsPerToken, CompactionSettings compaction) {
    this.maxTurns = maxTurns;
    this.tokenBudget = tokenBudget;
    this.charsPerToken = charsPerToken;
    this.compaction = compaction;
  }

  public CompactionSettings compaction() {
    return compaction;
  }

  /**
   * The built context: the request's turns, the summary block sent ahead of them (or null), and the
   * counts recorded on the reply.
   */
  public record BuiltContext(
      List<Turn> turns,
      int cacheBreakpoint,
      int messagesUsed,
      int messagesDropped,
      SessionSummary summary,
      String summaryBlock,
      int messagesDroppedUncovered,
      long historyTokens,
      boolean needsSummary) {

    public BuiltContext(List<Turn> turns, int cacheBreakpoint, int messagesUsed, int messagesDropped) {
      this(turns, cacheBreakpoint, messagesUsed, messagesDropped, null, null, 0, 0, false);
    }

    public ModelRequest toRequest(String system) {
      return new ModelRequest(system, turns, cacheBreakpoint, summaryBlock);
    }
  }

  /** How many messages the worker reads: the turn limit plus one probe. */
  public int readLimit() {
    return maxTurns + 1;
  }

  /** The documented token estimate. */
  public long estimateTokens(String text) {
    return text == null ? 0 : (text.length() + (long) charsPerToken - 1) / charsPerToken;
  }

  /** The estimated input tokens of a whole request: system prompt, summary block and every turn. */
  public long estimateInput(ModelRequest request) {
    long tokens = estimateTokens(request.system()) + estimateTokens(request.summaryBlock());
    for (Turn t : request.turns()) {
      tokens += estimateTokens(t.text());
    }
    return tokens;
  }

  /** The system block a summary is sent as; the same summary always gives the same bytes. */
  public static String summaryBlock(SessionSummary summary) {
    return "Summary of the earlier conversation (summary version " + summary.version() + ", covering the first "
        + summary.messagesCovered() + " messages; the conversation continues after it):\n\n" + summary.text();
  }

  /** True when {@code m} comes after the last message the summary covers, in {@code (createdAt, _id)} order. */
  public static boolean after(ChatMessage m, SessionSummary summary) {
    if (summary == null || summary.coversThroughCreatedAt() == null) {
      return true;
    }
    int byTime = m.createdAt().compareTo(summary.coversThroughCreatedAt());
    // ObjectIds are fixed-length lower-case hex here, so string order is their order
    return byTime > 0 || (byTime == 0 && m.id().compareTo(summary.coversThroughMessageId()) > 0);
  }

  public BuiltContext build(List<ChatMessage> historyNewestFirst, String question) {
    return build(historyNewestFirst, question, null);
  }

  /**
   * @param historyNewestFirst the window from {@code loadHistory}, newest first
   * @param question the new user message's text
   * @param summary the session's summary, or null (ignored when compaction is off)
   */
  public BuiltContext build(List<ChatMessage> historyNewestFirst, String question, SessionSummary summary) {
    SessionSummary used = compaction.enabled() && summary != null ? summary : null;
    List<ChatMessage> eligible = historyNewestFirst.stream().filter(ContextBuilder::eligible).toList();
    List<ChatMessage> candidates = eligible.stream().filter(m -> after(m, used)).toList();
    String block = used == null ? null : summaryBlock(used);
    long blockTokens = estimateTokens(block);
    List<ChatMessage> window = new ArrayList<>();
    long tokens = 0;
    for (ChatMessage m : candidates) {
      long t = estimateTokens(m.content());
      if (window.size() >= maxTurns || blockTokens + tokens + t > tokenBudget) {
        break;
      }
      window.add(m);
      tokens += t;
    }
    List<ChatMessage> chronological = new ArrayList<>(window);
    Collections.reverse(chronological);
    while (!chronological.isEmpty() && chronological.get(0).messageType() != MessageType.USER) {
      tokens -= estimateTokens(chronological.get(0).content());
      chronological.remove(0);
    }
    int usedCount = chronological.size();
    int dropped = eligible.size() - usedCount;
    int droppedUncovered = candidates.size() - usedCount;

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
    boolean needsSummary = compaction.enabled()
        && (droppedUncovered > 0
            || (blockTokens + tokens) * 100 >= (long) tokenBudget * compaction.triggerPercent()
            || (long) usedCount * 100 >= (long) maxTurns * compaction.triggerPercent());
    return new BuiltContext(List.copyOf(turns), breakpoint, usedCount, dropped, used, block, droppedUncovered,
        blockTokens + tokens, needsSummary);
  }

  /**
   * Where the next summary ends (docs/context.md): from the uncovered history, newest first (the same
   * {@link #readLimit()} window a reply reads), the newest messages that fit {@code keep_percent} of
   * the budget and of {@code max_turns} stay out of it, starting with a user message. Returns the
   * oldest message that stays out (the summary covers everything before it), {@link Keep#ALL} when
   * nothing needs covering, or {@link Keep#NONE} when the whole window may be covered.
   */
  public Keep planKeep(List<ChatMessage> uncoveredNewestFirst) {
    List<ChatMessage> eligible = uncoveredNewestFirst.stream().filter(ContextBuilder::eligible).toList();
    long keepBudget = (long) tokenBudget * compaction.keepPercent() / 100;
    long keepTurns = (long) maxTurns * compaction.keepPercent() / 100;
    List<ChatMessage> keep = new ArrayList<>();
    long tokens = 0;
    for (ChatMessage m : eligible) {
      long t = estimateTokens(m.content());
      if (keep.size() >= keepTurns || tokens + t > keepBudget) {
        break;
      }
      keep.add(m);
      tokens += t;
    }
    while (!keep.isEmpty() && keep.get(keep.size() - 1).messageType() != MessageType.USER) {
      keep.remove(keep.size() - 1);
    }
    if (keep.size() == eligible.size()) {
      return Keep.ALL;
    }
    return keep.isEmpty() ? Keep.NONE : new Keep(keep.get(keep.size() - 1).createdAt(), keep.get(keep.size() - 1).id());
  }

  /** The first message a summary must not cover ({@code (createdAt, id)}), or one of the two markers. */
  public record Keep(Instant createdAt, String id) {
    /** Everything uncovered stays in the window: nothing to summarise. */
    public static final Keep ALL = new Keep(Instant.MAX, "all");
    /** Nothing needs to stay out: cover the whole uncovered history. */
    public static final Keep NONE = new Keep(null, null);
  }

  /**
   * The part of {@code chunkOldestFirst} (uncovered, eligible, before the keep boundary) one summary run
   * folds in: at most {@code max_chunk_messages}, and, when it is cut short, not ending on a user
   * message whose reply would then open the window.
   */
  public List<ChatMessage> chunk(List<ChatMessage> oldestFirst) {
    List<ChatMessage> eligible = oldestFirst.stream().filter(ContextBuilder::eligible).toList();
    if (eligible.size() <= compaction.maxChunkMessages()) {
      return eligible;
    }
    List<ChatMessage> chunk = new ArrayList<>(eligible.subList(0, compaction.maxChunkMessages()));
    if (chunk.size() > 1 && chunk.get(chunk.size() - 1).messageType() == MessageType.USER) {
      chunk.remove(chunk.size() - 1);
    }
    return chunk;
  }

  private static void append(List<Turn> turns, String role, String text) {
    if (!turns.isEmpty() && turns.get(turns.size() - 1).role().equals(role)) {
      Turn last = turns.remove(turns.size() - 1);
      turns.add(new Turn(role, last.text() + "\n\n" + text));
    } else {
      turns.add(new Turn(role, text));
    }
  }

  static boolean eligible(ChatMessage m) {
    if (m.content() == null || m.content().isBlank()) {
      return false;
    }
    if (m.messageType() == MessageType.USER) {
      return true;
    }
    return m.messageType() == MessageType.AI_REPORT && m.status() == MessageStatus.COMPLETED;
  }
}
