package com.aichat.api;

import com.aichat.config.ConfigReader;

/**
 * {@code messages.*}: limits of regenerate, edit and feedback (docs/versions.md).
 *
 * @param maxVersions {@code messages.max_versions} (default 20, 1–1000): most versions one message
 *     keeps (the current one included); one more regenerate or edit gets 409 {@code TOO_MANY_VERSIONS}
 * @param feedbackCommentMaxChars {@code messages.feedback_comment_max_chars} (default 2000, 0–32000):
 *     longest feedback comment; a longer one gets 400 {@code VALIDATION_FAILED}; 0 allows no comment
 */
public record MessageControlSettings(int maxVersions, int feedbackCommentMaxChars) {

  public static final MessageControlSettings DEFAULTS = new MessageControlSettings(20, 2000);

  public static MessageControlSettings from(ConfigReader messages) {
    return new MessageControlSettings(
        messages.intValue("max_versions", DEFAULTS.maxVersions(), 1, 1000),
        messages.intValue("feedback_comment_max_chars", DEFAULTS.feedbackCommentMaxChars(), 0, 32_000));
  }
}
