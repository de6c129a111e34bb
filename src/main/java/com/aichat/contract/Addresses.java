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
   * The store, split by who calls it (docs/architecture.md §2), one address per interface of
   * {@code com.aichat.persistence}. Header {@value #ACTION_HEADER} names the interface's method; the
   * body holds its arguments by parameter name and the reply its result, in the JSON forms of the
   * generic binding ({@code persistence.binding.BusCodec}). {@code Conversations}: the API's (also
   * the gateway's, readiness', and the worker's and title job's reads of a conversation).
   */
  public static final String CONVERSATIONS = "chat.persistence.conversations";

  /** The store's {@code Generations}: the worker's claim, checkpoints and final writes of a reply. */
  public static final String GENERATIONS = "chat.persistence.generations";

  /** The store's {@code Jobs}: the session-job runner's claim, renew and ends, and enqueueing. */
  public static final String JOBS = "chat.persistence.jobs";

  /** The store's {@code Recovery}: the sweep's stranded work, a lost node's leases, ledger repair. */
  public static final String RECOVERY = "chat.persistence.recovery";

  /** The prefix of every store address above. */
  public static final String PERSISTENCE_PREFIX = "chat.persistence.";

  /** Header carrying the operation name on the store's requests ({@link #CONVERSATIONS}, ...). */
  public static final String ACTION_HEADER = "action";

  /**
   * Session domain events, published after each committed write: {@link SessionEvent} JSON
   * {@code {type: session.created|session.updated|session.deleted, userId, sessionId, session}}.
   */
  public static final String EVENTS_SESSION = "chat.events.session";

  /**
   * Message domain events, published after each committed write: {@link MessageEvent} JSON
   * {@code {type: message.created|message.processing|message.completed|message.failed|message.cancelled,
   * userId, sessionId, message}} where {@code message} is the REST rendering. The local dispatcher also
   * publishes {@link QueuedEvent} JSON {@code {type: message.queued, userId, sessionId, messageId, queue}}
   * here (no {@code message}) when a reply has to wait for a worker slot.
   */
  public static final String EVENTS_MESSAGE = "chat.events.message";

  /**
   * Streaming deltas of a generating reply, coalesced by the worker: {@link DeltaEvent} JSON
   * {@code {userId, sessionId, messageId, seq, offset, text, attempt?}} ({@code attempt}: the claim's
   * attempt, which gateways use to fence deltas of an earlier attempt).
   */
  public static final String EVENTS_DELTA = "chat.events.delta";

  /**
   * Dispatcher request (point-to-point, fire-and-forget is allowed): {@link DispatchRequest}
   * {@code {messageId, userId?, sessionId?}} of an {@code ai_report} placeholder that is pending. The
   * dispatcher hands it to a worker or queues it (local mode), or creates a Cloud Task. Replies a
   * {@link DispatchReceipt} {@code {dispatched: true, queue?, load?, userRetryAfterMs?}} once handed
   * over or queued.
   */
  public static final String DISPATCH = "chat.dispatch";

  /**
   * Published by each local dispatcher instance while its queue changes (at most every
   * {@code dispatch.load_interval_ms}, and at least once a second): {@link DispatchLoad} JSON. HTTP API
   * instances cache it to refuse sends with {@code 503 OVERLOADED} without a bus round trip.
   */
  public static final String DISPATCH_LOAD = "chat.dispatch.load";

  /**
   * AI worker job (point-to-point, any worker instance): {@code {messageId, userId?, retryInProcess?:
   * boolean (default true), outcomeAddress?: string}}. The worker answers at once with
   * {@code {accepted: boolean, reason?, workerId, address, free, max, maxPerUser}} ({@code reason: "busy"} when it
   * has no free slot, {@code "user_busy"} when the user is at {@code worker.max_per_user} there) and
   * never holds the request open for the generation itself. With {@code retryInProcess: false} a retryable failure releases the reply to
   * {@code pending} instead of retrying inside the worker (Cloud Tasks then retries). With an
   * {@code outcomeAddress}, the worker sends a {@link GenerationOutcome} there when the job ends.
   */
  public static final String AI_GENERATE = "chat.ai.generate";

  /**
   * Published by an AI worker instance when it starts and each time one of its generation slots frees:
   * {@code {workerId, address, free, max, maxPerUser, messageId?}} ({@code address} = its
   * {@link #aiWorker} address, {@code free} = its slots now free, {@code max} = {@code
   * worker.max_concurrent}, {@code maxPerUser} = {@code worker.max_per_user}, {@code messageId} =
   * the job that just ended). Local dispatchers count each worker's free slots from it and offer
   * exactly that many waiting jobs, so a full worker is not asked again until it has room.
   */
  public static final String AI_CAPACITY = "chat.ai.capacity";

  /**
   * Published by a local dispatcher when it starts ({@code {}}): every AI worker instance answers by
   * publishing its {@link #AI_CAPACITY}, so a dispatcher that starts after the workers knows them at
   * once.
   */
  public static final String AI_CAPACITY_QUERY = "chat.ai.capacity.query";

  /**
   * Prefix of each AI worker instance's own job address {@code chat.ai.generate.<workerId>}: the same
   * contract as {@link #AI_GENERATE}, but reaching that one instance, so a dispatcher can send a job to
   * the worker it knows has a free slot.
   */
  public static final String AI_WORKER_PREFIX = "chat.ai.generate.";

  /** The job address of one AI worker instance. */
  public static String aiWorker(String workerId) {
    return AI_WORKER_PREFIX + workerId;
  }

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

  /**
   * This node is draining (SIGTERM): {@code {graceMs, socketNoticeMs}}. Published by
   * {@link com.aichat.ops.Drain} and consumed with {@code localConsumer} only, so it never leaves the
   * node: the gateway tells its sockets to reconnect elsewhere, the workers take no new jobs.
   */
  public static final String NODE_DRAINING = "chat.node.draining";

  /**
   * Session jobs (point-to-point, any worker instance, fire-and-forget): {@link SessionJobRequest}
   * {@code {sessionId, kind}}. Sent by the persistence service layer when a job it enqueued is due and
   * by the dispatcher's sweep
   * for jobs left pending or whose lease expired; the worker's
   * {@link com.aichat.jobs.SessionJobRunner} claims and runs it. Never answered.
   */
  public static final String SESSION_JOBS = "chat.jobs.session";
}
