package com.aichat.ai.provider;

import com.aichat.contract.ChatMessage.Usage;

/**
 * How a successful attempt ended: the model that answered, token usage and the stop reason.
 * {@code usage.inputTokens} counts every input token, cached or not; {@code cacheReadTokens} and
 * {@code cacheWriteTokens} say how many of them were read from or written to the provider's prompt
 * cache (0 when the provider does not say).
 */
public record ModelResult(String model, Usage usage, String stopReason, long cacheReadTokens, long cacheWriteTokens) {

  public ModelResult(String model, Usage usage, String stopReason) {
    this(model, usage, stopReason, 0, 0);
  }
}
