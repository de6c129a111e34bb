package com.aichat.ai.provider;

import java.util.List;

/**
 * What a model is asked: a system prompt and the alternating turns, the last one being the user's new
 * question. {@code cacheBreakpoint} is the index of the turn that ends the reusable history prefix
 * (the turn before the final user turn), or -1 when there is no history to cache.
 */
public record ModelRequest(String system, List<Turn> turns, int cacheBreakpoint) {

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
