package com.aichat.contract;

/**
 * Every event-bus address of the service. Verticles talk only through these; no address is
 * written inline anywhere else.
 *
 * <p>Point-to-point request/reply addresses take a JSON request and answer JSON or fail with a
 * {@link ErrorCode} failure code. Fan-out addresses ({@code chat.events.*}) are {@code publish}ed and
 * never answered. Payload shapes are documented on each constant and in {@code docs/events.md}.
 */
public final class Addresses {

  private Addresses() {}

  /**
   * Persistence requests. Header {@value #ACTION_HEADER} names the {@link StoreAction}; body and
   * reply are the JSON forms documented on {@link com.aichat.persistence.ChatStore}.
   */
  public static final String PERSISTENCE = "chat.persistence";

  /** Header carrying the operation name on {@link #PERSISTENCE} requests. */
  public static final String ACTION_HEADER = "action";

  /**
   * Session domain events, published after each committed write: {@link SessionEvent} JSON
   * {@code {type: session.created|session.updated|session.deleted, userId, sessionId, session}}.
   */
  public static final String EVENTS_SESSION = "chat.events.session";

  /**
   * Message domain events, published after each committed write: {@link MessageEvent} JSON
   * {@code {type: message.created|message.processing|message.completed|message.failed|message.cancelled,
   * userId, sessionId, message}} where {@code message} is the REST rendering.
   */
  public static final String EVENTS_MESSAGE = "chat.events.message";

  /**
   * Streaming deltas of a generating reply, coalesced by the worker: {@link DeltaEvent} JSON
   * {@code {userId, sessionId, messageId, seq, offset, text}}.
   */
  public static final String EVENTS_DELTA = "chat.events.delta";

  /**
   * Dispatcher request (point-to-point, fire-and-forget is allowed): {@code {messageId}} of an
   * {@code ai_report} placeholder that is pending. The dispatcher hands it to a worker (local mode)
   * or creates a Cloud Task. Replies {@code {dispatched: true}} once handed over.
   */
  public static final String DISPATCH = "chat.dispatch";

  /**
   * AI worker job (point-to-point): {@code {messageId, retryInProcess?: boolean (default true),
   * outcomeAddress?: string}}. The worker answers at once with {@code {accepted: boolean, reason?}}
   * ({@code reason: "busy"} when it has no free slot) and never holds the request open for the
   * generation itself. With {@code retryInProcess: false} a retryable failure releases the reply to
   * {@code pending} instead of retrying inside the worker (Cloud Tasks then retries). With an
   * {@code outcomeAddress}, the worker sends a {@link GenerationOutcome} there when the job ends.
   */
  public static final String AI_GENERATE = "chat.ai.generate";

  /**
   * Published by an AI worker instance each time one of its generation slots frees:
   * {@code {workerId, free}} ({@code free} = its slots now free). Local dispatchers re-offer waiting
   * jobs at once instead of waiting for their backoff timers.
   */
  public static final String AI_CAPACITY = "chat.ai.capacity";

  /** Cancel request, published to every worker: {@code {messageId}}. The owner of the lease stops. */
  public static final String AI_CANCEL = "chat.ai.cancel";

  /**
   * Prefix of the per-generation progress address {@code chat.ai.progress.<messageId>}, registered by
   * the worker that currently streams that reply. Request {@code {}}, reply {@code {messageId, seq,
   * offset, text}}: the text so far, consistent with the deltas already published.
   */
  public static final String AI_PROGRESS_PREFIX = "chat.ai.progress.";

  /** The progress address of one generating reply. */
  public static String aiProgress(String messageId) {
    return AI_PROGRESS_PREFIX + messageId;
  }

  /**
   * Prefix of the one-shot outcome addresses {@code chat.ai.outcome.<unique id>} that a caller of
   * {@link #AI_GENERATE} registers and names as {@code outcomeAddress}; the worker sends one
   * {@link GenerationOutcome} JSON there when the job ends.
   */
  public static final String AI_OUTCOME_PREFIX = "chat.ai.outcome.";

  /** A fresh, unique outcome address. */
  public static String aiOutcome(String uniqueId) {
    return AI_OUTCOME_PREFIX + uniqueId;
  }
}
