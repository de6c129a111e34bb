package com.aichat.contract;

/**
 * The kinds of durable background model job that run on a session (docs/generation.md, "Session
 * jobs"). Each kind keeps its state in its own sub-document of the session, {@link #field()}
 * ({@code titleJob}, ...): {@code {status, attempts, dueAt, leaseOwner?, leaseUntil?, lastError?,
 * createdAt, updatedAt}}.
 */
public enum SessionJobKind {

  /** Generates the session's title after its first completed exchange. */
  TITLE("title"),

  /**
   * Folds the next chunk of the session's uncovered history into its rolling summary
   * (docs/context.md); enqueued by the worker when a reply's context asks for it, and again after each
   * run while a backlog is left.
   */
  SUMMARY("summary");

  private final String wire;

  SessionJobKind(String wire) {
    this.wire = wire;
  }

  /** The JSON name of the kind, e.g. {@code title}. */
  public String wire() {
    return wire;
  }

  /** The session document's field holding this kind's job state, e.g. {@code titleJob}. */
  public String field() {
    return wire + "Job";
  }

  /** The kind named {@code wire}, or null when there is none. */
  public static SessionJobKind fromWire(String wire) {
    for (SessionJobKind k : values()) {
      if (k.wire.equals(wire)) {
        return k;
      }
    }
    return null;
  }
}
