package com.aichat.ai.provider;

import com.aichat.contract.ChatMessage.Usage;

/** How a successful attempt ended: the model that answered, token usage and the stop reason. */
public record ModelResult(String model, Usage usage, String stopReason) {}
