package com.aichat.api;

import com.aichat.config.ConfigReader;

/**
 * {@code messages.*}: limits of regenerate, edit, continue and feedback (docs/versions.md).
 *
 * @param maxVersions {@code messages.max_versions} (default 20, 1–1000): most versions one message
 *     keeps (the current one included); one more regenerate or edit gets 409 {@code TOO_MANY_VERSIONS}
 * @param feedbackCommentMaxChars {@code messages.feedback_comment_max_chars} (default 2000, 0–32000):
 *     longest feedback comment; a longer one gets 400 {@code VALIDATION_FAILED}; 0 allows no comment
 * @param maxContinues {@code messages.max_continues} (default 5, 0–100): most continues of one
 *     version of a reply (failed and cancelled ones count; a regenerate or edit starts again at 0);
 *     one more gets 409 {@code TOO_MANY_CONTINUES}; 0 turns continue off
 */
public record MessageControlSettings(int maxVersions, int feedbackCommentMaxChars, int maxContinues) {

  public static final MessageControlSettings DEFAULTS = new MessageControlSettings(20, 2000, 5);

  public static MessageControlSettings from(ConfigReader messages) {
    return new MessageControlSettings(
        messages.intValue("max_versions", DEFAULTS.maxVersions(), 1, 1000),
        messages.intValue("feedback_comment_max_chars", DEFAULTS.feedbackCommentMaxChars(), 0, 32_000),
        messages.intValue("max_continues", DEFAULTS.maxContinues(), 0, 100));
  }
}
