package com.aichat.contract;

/** {@code prompthistories.messageType}, as in the seed's PromptHistory model. */
public enum MessageType {
  USER("user"),
  AI_REPORT("ai_report"),
  AI_ERROR("ai_error"),
  SYSTEM("system");

  private final String wire;

  MessageType(String wire) {
    this.wire = wire;
  }

  /** The stored and rendered string. */
  public String wire() {
    return wire;
  }

  public static MessageType fromWire(String s) {
    for (MessageType t : values()) {
      if (t.wire.equals(s)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown messageType: " + s);
  }
}
