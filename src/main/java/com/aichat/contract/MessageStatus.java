package com.aichat.contract;

/**
 * {@code prompthistories.status}: the generation state machine of an AI reply (docs/architecture.md §4). User
 * messages are stored {@link #COMPLETED}.
 */
public enum MessageStatus {
  PENDING("pending"),
  PROCESSING("processing"),
  COMPLETED("completed"),
  FAILED("failed"),
  CANCELLED("cancelled");

  private final String wire;

  MessageStatus(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  /** True once no further transition can happen. */
  public boolean isFinal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  public static MessageStatus fromWire(String s) {
    for (MessageStatus t : values()) {
      if (t.wire.equals(s)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown status: " + s);
  }
}
