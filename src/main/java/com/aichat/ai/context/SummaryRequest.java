package com.aichat.ai.context;

import com.aichat.ai.provider.ModelRequest;
import com.aichat.ai.provider.ModelRequest.Turn;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.MessageType;
import com.aichat.contract.SessionSummary;
import java.util.List;

/**
 * The request that folds the next chunk of history into a session's summary (docs/context.md): the
 * system prompt {@code context.compaction.prompt}, and one user turn holding the previous summary (if
 * any) in {@code <previous-summary>} and the chunk as a {@code <transcript>} of {@code User:} and
 * {@code Assistant:} lines. Each message's text is one line (its line breaks become spaces) and is cut
 * to {@value #MAX_MESSAGE_CHARS} characters, so a chunk's request stays bounded.
 */
public final class SummaryRequest {

  /** At most this much of one message goes into a transcript. */
  public static final int MAX_MESSAGE_CHARS = 4000;

  private SummaryRequest() {}

  /** The user turn: previous summary, transcript, instruction. */
  public static String prompt(SessionSummary previous, List<ChatMessage> chunkOldestFirst) {
    StringBuilder sb = new StringBuilder();
    if (previous != null && previous.text() != null && !previous.text().isBlank()) {
      sb.append("<previous-summary>\n").append(previous.text().strip()).append("\n</previous-summary>\n\n");
    }
    sb.append("<transcript>\n");
    for (ChatMessage m : chunkOldestFirst) {
      String text = m.content().strip().replaceAll("\\s*\\R\\s*", " ");
      if (text.length() > MAX_MESSAGE_CHARS) {
        text = text.substring(0, MAX_MESSAGE_CHARS) + "…";
      }
      sb.append(m.messageType() == MessageType.USER ? "User: " : "Assistant: ").append(text).append('\n');
    }
    sb.append("</transcript>\n\n");
    sb.append(previous == null
        ? "Write the summary of this conversation."
        : "Write the updated summary: the previous summary with this part of the conversation folded in.");
    return sb.toString();
  }

  /**
   * The model request: purpose {@code summary}, {@code context.compaction.model} (null: the provider's
   * model) and {@code max_tokens}, one user turn (nothing to cache).
   */
  public static ModelRequest of(CompactionSettings cfg, SessionSummary previous, List<ChatMessage> chunkOldestFirst) {
    return new ModelRequest(cfg.prompt(), List.of(new Turn(Turn.USER, prompt(previous, chunkOldestFirst))), -1,
        cfg.model(), cfg.maxTokens(), ModelRequest.PURPOSE_SUMMARY);
  }
}
