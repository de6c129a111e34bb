package com.aichat.jobs.title;

import com.aichat.config.ConfigReader;

/**
 * {@code titles.*}: automatic session titles (the {@code title} session job).
 *
 * @param enabled {@code titles.enabled} (default true): after a session's first completed exchange,
 *     a session still titled by default ({@code titleSource: default}) gets a generated title
 * @param model {@code titles.model} (default {@value #DEFAULT_MODEL}): the Claude model of the title
 *     request (a small, cheap one); the offline model derives titles itself
 * @param prompt {@code titles.prompt}: the system prompt of the title request
 * @param maxTokens {@code titles.max_tokens} (default 32, 1–1024): the title request's max_tokens
 * @param maxChars {@code titles.max_chars} (default 80, 10–200, the API's title limit): a longer
 *     answer is cut at a word boundary
 * @param inputChars {@code titles.input_chars} (default 2000, 100–100,000): characters of the first
 *     question and of the first reply sent with the request, each
 */
public record TitleSettings(
    boolean enabled, String model, String prompt, int maxTokens, int maxChars, int inputChars) {

  public static final String DEFAULT_MODEL = "claude-haiku-4-5";

  public static final String DEFAULT_PROMPT =
      "You name chat conversations. Answer with a title for the conversation only: at most six words, "
          + "in the language of the conversation, without quotes and without final punctuation.";

  public static TitleSettings from(ConfigReader r) {
    String model = r.string("model", DEFAULT_MODEL);
    if (model.isBlank()) {
      throw r.error("model", "must not be blank");
    }
    String prompt = r.string("prompt", DEFAULT_PROMPT);
    if (prompt.isBlank()) {
      throw r.error("prompt", "must not be blank");
    }
    return new TitleSettings(
        r.bool("enabled", true),
        model.strip(),
        prompt,
        r.intValue("max_tokens", 32, 1, 1024),
        r.intValue("max_chars", 80, 10, 200),
        r.intValue("input_chars", 2000, 100, 100_000));
  }
}
