package com.aichat.ai.provider;

import java.util.List;

/**
 * What a model is asked: a system prompt and the alternating turns, the last one being the user's new
 * question. {@code cacheBreakpoint} is the index of the turn that ends the reusable history prefix
 * (the turn before the final user turn), or -1 when there is no history to cache.
 *
 * <p>Session jobs ask short, cheap requests of their own: {@code model} and {@code maxTokens}
 * override the provider's configured ones when set (null / 0 otherwise), and {@code purpose} names
 * what is asked ({@link #PURPOSE_REPLY} for a chat reply, {@link #PURPOSE_TITLE}, ...), which the
 * offline model uses to answer deterministically in kind.
 *
 * <p>{@code summaryBlock}, when not null, is the session summary's system block (docs/context.md): sent
 * after the system prompt as a second system block with its own cache breakpoint, so the prefix up to
 * it stays cached as long as the summary's version does not change.
 */
public record ModelRequest(
    String system, List<Turn> turns, int cacheBreakpoint, String model, int maxTokens, String purpose,
    String summaryBlock) {

  /** A chat reply. */
  public static final String PURPOSE_REPLY = "reply";
  /** A session title (the title job). */
  public static final String PURPOSE_TITLE = "title";
  /** A session summary (the summary job, docs/context.md). */
  public static final String PURPOSE_SUMMARY = "summary";

  /** A chat reply with the provider's configured model and max tokens. */
  public ModelRequest(String system, List<Turn> turns, int cacheBreakpoint) {
    this(system, turns, cacheBreakpoint, null, 0, PURPOSE_REPLY, null);
  }

  /** A chat reply with the session summary's system block (null for none). */
  public ModelRequest(String system, List<Turn> turns, int cacheBreakpoint, String summaryBlock) {
    this(system, turns, cacheBreakpoint, null, 0, PURPOSE_REPLY, summaryBlock);
  }

  /** A session job's request, without a summary block. */
  public ModelRequest(String system, List<Turn> turns, int cacheBreakpoint, String model, int maxTokens, String purpose) {
    this(system, turns, cacheBreakpoint, model, maxTokens, purpose, null);
  }

  /** A role, {@code user} or {@code assistant}, and its text. */
  public record Turn(String role, String text) {
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
  }

  /**
   * The user's new question: the text of the last user turn (the last turn, unless a continue ends
   * the request with the assistant's text so far).
   */
  public String question() {
    for (int i = turns.size() - 1; i >= 0; i--) {
      if (Turn.USER.equals(turns.get(i).role())) {
        return turns.get(i).text();
      }
    }
    return "";
  }
}
