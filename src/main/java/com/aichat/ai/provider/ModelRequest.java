package com.aichat.ai.provider;

import java.util.List;

/**
 * What a model is asked: a system prompt and the alternating turns, the last one being the user's new
 * question. {@code cacheBreakpoint} is the index of the turn that ends the reusable history prefix
 * (the turn before the final user turn), or -1 when there is no history to cache.
 *
 * <p>{@code summaryBlock}, when not null, is the session summary's system block (docs/context.md): sent
 * after the system prompt as a second system block with its own cache breakpoint, so the prefix up to
 * it stays cached as long as the summary's version does not change.
 */
public record ModelRequest(String system, List<Turn> turns, int cacheBreakpoint, String summaryBlock) {

  public ModelRequest(String system, List<Turn> turns, int cacheBreakpoint) {
    this(system, turns, cacheBreakpoint, null);
  }

  /** A role, {@code user} or {@code assistant}, and its text. */
  public record Turn(String role, String text) {
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
  }

  /** The user's new question (the text of the last turn). */
  public String question() {
    return turns.isEmpty() ? "" : turns.get(turns.size() - 1).text();
  }
}
