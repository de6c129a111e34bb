package com.aichat.gateway;

import com.aichat.contract.Ids;

/**
 * The Socket.IO event names of the real-time contract (documented for frontend developers in
 * {@code docs/events.md}). Server events reuse the domain event names of the bus.
 */
public final class SocketEvents {

  private SocketEvents() {}

  /** Client → server, with ack: {@code {sessionId}} → {@code {ok, session, replies}} or {@code {ok:false, error}}. */
  public static final String JOIN = "join";
  /** Client → server, with ack: {@code {sessionId}} → {@code {ok}}. */
  public static final String LEAVE = "leave";

  /** Session room: a message was stored; payload = REST message JSON. */
  public static final String MESSAGE_CREATED = "message.created";
  /**
   * Session room: the reply waits for a worker slot; payload {@code {messageId, sessionId, position,
   * queued, expectedStartMs?, expectedStartAt?}} (sent once, when it is queued).
   */
  public static final String MESSAGE_QUEUED = "message.queued";
  /** Session room: a worker started (or restarted) generating a reply; reset its text. */
  public static final String MESSAGE_PROCESSING = "message.processing";
  /** Session room: {@code {messageId, sessionId, seq, offset, text}}. */
  public static final String MESSAGE_DELTA = "message.delta";
  /** Session room: the reply is final; payload = REST message JSON with the full content. */
  public static final String MESSAGE_COMPLETED = "message.completed";
  /** Session room: the reply failed for good; payload = REST message JSON ({@code error}). */
  public static final String MESSAGE_FAILED = "message.failed";
  /** Session room: the reply was cancelled; payload = REST message JSON with the partial content. */
  public static final String MESSAGE_CANCELLED = "message.cancelled";

  /** User room: payload = REST session JSON. */
  public static final String SESSION_CREATED = "session.created";
  /** User room: payload = REST session JSON. */
  public static final String SESSION_UPDATED = "session.updated";
  /** User room: payload = {@code {id}}. */
  public static final String SESSION_DELETED = "session.deleted";

  /** To the socket, just before the gateway disconnects it because its token expired. */
  public static final String AUTH_EXPIRED = "auth.expired";

  /** The room every socket of a user joins on authentication. */
  public static String userRoom(String userId) {
    return "user:" + Ids.lowerIfId(userId);
  }

  /** The room a socket joins through an acknowledged {@link #JOIN}. */
  public static String sessionRoom(String sessionId) {
    return "session:" + Ids.lowerIfId(sessionId);
  }
}
