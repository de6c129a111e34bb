package com.aichat.ai.context;

import com.aichat.config.ConfigReader;
import java.util.Set;

/**
 * {@code context.token_counting} and {@code context.compaction.*} (docs/context.md).
 *
 * @param tokenCounting {@code context.token_counting} (default {@code estimate}): how a reply's input
 *     tokens are counted before the request for its context record: {@code estimate}
 *     ({@code ceil(chars / context.chars_per_token)}, offline) or {@code api} (Anthropic's
 *     {@code POST /v1/messages/count_tokens}; with the offline model, or when that call fails, the
 *     estimate is used)
 * @param enabled {@code context.compaction.enabled} (default true): keep a rolling summary of the
 *     history that no longer fits the window and send it ahead of the window; false restores the plain
 *     window (older turns dropped)
 * @param model {@code context.compaction.model} (default empty = {@code claude.model}): the model that
 *     writes summaries
 * @param maxTokens {@code context.compaction.max_tokens} (default 1024): the summary request's
 *     {@code max_tokens}; at most half of {@code context.token_budget}, so a summary always leaves room
 *     for the window
 * @param prompt {@code context.compaction.prompt}: the summary request's system prompt
 * @param triggerPercent {@code context.compaction.trigger_percent} (default 80): after a reply, the
 *     summary job runs when the reply dropped history the summary does not cover, or when the summary
 *     and the window it sent reached this share of {@code token_budget} or the window this share of
 *     {@code max_turns}
 * @param keepPercent {@code context.compaction.keep_percent} (default 40, below
 *     {@code trigger_percent}): a summary covers all but the newest history that fits this share of
 *     {@code token_budget} and of {@code max_turns}, so it advances in chunks and the prompt prefix
 *     stays the same for several replies in a row
 * @param maxChunkMessages {@code context.compaction.max_chunk_messages} (default 200): messages one run
 *     of the summary job folds into the summary at most; a longer backlog takes further runs
 */
public record CompactionSettings(
    String tokenCounting,
    boolean enabled,
    String model,
    int maxTokens,
    String prompt,
    int triggerPercent,
    int keepPercent,
    int maxChunkMessages) {

  public static final String ESTIMATE = "estimate";
  public static final String API = "api";

  public static final String DEFAULT_PROMPT =
      "You maintain the running summary of a conversation between a user and an AI assistant. You get the "
          + "previous summary (if any) and the next part of the conversation as a transcript. Write one "
          + "updated summary of everything so far: keep facts, decisions, names, numbers, open questions and "
          + "the user's stated preferences; drop greetings and small talk. Use short plain sentences or "
          + "bullet points, at most 300 words. Output only the summary.";

  /** Compaction off, estimated counts: the window as it was before compaction existed. */
  public static final CompactionSettings DISABLED =
      new CompactionSettings(ESTIMATE, false, null, 1024, DEFAULT_PROMPT, 80, 40, 200);

  /** Reads {@code context.token_counting} and {@code context.compaction}; {@code tokenBudget} is {@code context.token_budget}. */
  public static CompactionSettings from(ConfigReader context, int tokenBudget) {
    String counting = context.oneOf("token_counting", ESTIMATE, Set.of(ESTIMATE, API));
    ConfigReader c = context.section("compaction");
    int maxTokens = c.intValue("max_tokens", Math.min(1024, tokenBudget / 2), 16, 64_000);
    if (maxTokens > tokenBudget / 2) {
      throw c.error("max_tokens", "must be at most half of context.token_budget (" + tokenBudget / 2
          + "), so a summary leaves room for the history window");
    }
    int trigger = c.intValue("trigger_percent", 80, 10, 100);
    int keep = c.intValue("keep_percent", 40, 0, 95);
    if (keep >= trigger) {
      throw c.error("keep_percent", "must be below context.compaction.trigger_percent (" + trigger + ")");
    }
    String prompt = c.string("prompt", DEFAULT_PROMPT);
    if (prompt.isBlank()) {
      throw c.error("prompt", "must not be blank");
    }
    return new CompactionSettings(
        counting,
        c.bool("enabled", true),
        c.optString("model"),
        maxTokens,
        prompt,
        trigger,
        keep,
        c.intValue("max_chunk_messages", 200, 2, 10_000));
  }
}
