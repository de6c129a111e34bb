package com.aichat.gateway;

import com.aichat.contract.Addresses;
import com.aichat.contract.ChatMessage;
import com.aichat.contract.ChatSession;
import com.aichat.contract.DeltaEvent;
import com.aichat.contract.ErrorCode;
import com.aichat.contract.Ids;
import com.aichat.contract.MessageEvent;
import com.aichat.contract.QueuedEvent;
import com.aichat.metrics.Metrics;
import com.aichat.persistence.Conversations;
import com.corundumstudio.socketio.SocketIOClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code session:<id>} rooms and the resume protocol. Runs on the gateway verticle's context.
 *
 * <p>Session rooms are kept here rather than as netty-socketio rooms because each member needs its
 * own {@link ReplyCursor} per generating reply. A join is exact by construction:
 * <ol>
 *   <li>after the ownership check, the socket becomes a member in state <i>syncing</i>: from now on
 *       every event of the session is buffered for it, in arrival order;</li>
 *   <li>the snapshot is taken: the active replies ({@code findActiveReplies}) and for each the text
 *       so far from the worker that streams it ({@code chat.ai.progress.<id>}), falling back to the
 *       stored checkpoint;</li>
 *   <li>the ack carries the snapshot; the cursors start at the snapshot lengths; the buffered events,
 *       then the live ones, go through the cursors.</li>
 * </ol>
 * Every delta published after step 1 reaches the member; every one published before it is inside the
 * snapshot (the worker answers progress after publishing those deltas), so together they cover the
 * text with no gap; the cursor drops what the snapshot already holds, so there is no duplicate. If a
 * gap still shows up (the snapshot came from an older checkpoint), the gateway asks the worker for the
 * text so far again and sends the missing part as one delta.
 */
final class SessionRooms {

  private static final Logger log = LoggerFactory.getLogger(SessionRooms.class);
  /** How long a join waits for a worker's progress answer before using the stored checkpoint. */
  static final long PROGRESS_TIMEOUT_MS = 2_000;
  /** Events buffered for one member while its join is in flight; beyond it the member is dropped. */
  static final int MAX_SYNC_BUFFER = 10_000;

  /** Ended replies each member remembers, to drop their late deltas. */
  static final int MAX_ENDED_PER_MEMBER = 256;

  /** One socket in one session room. */
  private static final class Member {
    final UUID sid;
    final String userId;
    final String sessionId;
    final SocketIOClient client;
    /** Events of the session that arrived while the join was in flight (MessageEvent, QueuedEvent or DeltaEvent). */
    List<Object> syncBuffer = new ArrayList<>();
    final Map<String, ReplyCursor> cursors = new HashMap<>();
    /**
     * Replies that ended while this socket was joined, newest kept: a late delta of one of them (from a
     * worker that lost its lease unawares) is dropped instead of starting a new cursor.
     */
    final Set<String> ended = java.util.Collections.newSetFromMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > MAX_ENDED_PER_MEMBER;
      }
    });

    Member(UUID sid, String userId, String sessionId, SocketIOClient client) {
      this.sid = sid;
      this.userId = userId;
      this.sessionId = sessionId;
      this.client = client;
    }
  }

  /** The text so far of one active reply, as delivered in a join ack. */
  record Snapshot(ChatMessage message, long seq, String text, int attempt) {
    JsonObject toJson() {
      return new JsonObject()
          .put("messageId", message.id())
          .put("status", message.status().wire())
          .put("seq", seq)
          .put("offset", 0)
          .put("text", text)
          .put("attempt", attempt)
          .put("message", message.toJson());
    }
  }

  private final Vertx vertx;
  private final Conversations store;
  private final SocketSender sender;
  /** The context all of the state below is confined to ({@link #onOwnerContext}). */
  private final ContextInternal owner;
  private final Map<String, Map<UUID, Member>> rooms = new HashMap<>();
  private final Map<UUID, Map<String, Member>> memberships = new HashMap<>();
  /** Joins whose ownership check or snapshot is in flight, per socket and session. */
  private final Map<UUID, Map<String, List<JoinTicket>>> pendingJoins = new HashMap<>();

  /** One join in flight; {@code left} once a leave of that session (or the socket's end) overtook it. */
  private static final class JoinTicket {
    boolean left;
  }

  SessionRooms(Vertx vertx, Conversations store, SocketSender sender) {
    this.vertx = vertx;
    this.store = store;
    this.sender = sender;
    this.owner = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
  }

  /**
   * Every entry point runs on the context this was created on (the gateway verticle's): the rooms,
   * members, buffers and cursors are plain collections, and the exact join relies on bus events and
   * joins being handled in one order. A call from another context is a wiring bug; it fails at once
   * instead of racing.
   */
  private void onOwnerContext() {
    Context current = Vertx.currentContext();
    if (current == null || ((ContextInternal) current).unwrap() != owner) {
      throw new IllegalStateException("SessionRooms used off the gateway's context (thread "
          + Thread.currentThread().getName() + ")");
    }
  }

  /**
   * Joins {@code sid} to the session after checking that {@code userId} owns it. On success the ack
   * body ({@code {ok:true, session, replies}}) is handed to {@code ack} and only then are the events
   * buffered during the join released to the socket; on failure nothing is acked here. When
   * {@code stillBound} is false once the ownership check returns (the socket disconnected or was
   * re-authenticated meanwhile, so its memberships were already dropped), nothing is joined. A
   * {@link #leave} of the session that arrives while the join is in flight wins: the join then adds
   * no membership (or drops the one it added) and fails with {@code CONFLICT}.
   */
  Future<Void> join(
      UUID sid,
      String userId,
      SocketIOClient client,
      String sessionId,
      BooleanSupplier stillBound,
      Consumer<JsonObject> ack) {
    onOwnerContext();
    JoinTicket ticket = openTicket(sid, sessionId);
    return store
        .getSession(userId, sessionId)
        .compose(session -> {
          if (!stillBound.getAsBoolean()) {
            return Future.failedFuture(ErrorCode.UNAUTHENTICATED.failure("the socket is no longer authenticated"));
          }
          if (ticket.left) {
            return Future.failedFuture(leftWhileJoining());
          }
          return snapshotAfterJoining(new Member(sid, userId, sessionId, client), session, ticket, ack);
        })
        .onComplete(ar -> closeTicket(sid, sessionId, ticket));
  }

  private static Throwable leftWhileJoining() {
    return ErrorCode.CONFLICT.failure("the socket left the session while joining it");
  }

  private Future<Void> snapshotAfterJoining(
      Member member, ChatSession session, JoinTicket ticket, Consumer<JsonObject> ack) {
    addMember(member);
    return snapshot(member.userId, member.sessionId)
        .onFailure(err -> removeMember(member))
        .compose(snaps -> {
          if (ticket.left) {
            // the leave already removed the member; nothing of this join may stay behind
            removeMember(member);
            return Future.failedFuture(leftWhileJoining());
          }
          JsonArray replies = new JsonArray();
          for (Snapshot s : snaps) {
            replies.add(s.toJson());
            member.cursors.put(s.message().id(), new ReplyCursor(s.text().length(), s.seq(), s.attempt()));
          }
          ack.accept(new JsonObject().put("ok", true).put("session", session.toJson()).put("replies", replies));
          Metrics.of(vertx).join();
          if (!snaps.isEmpty()) {
            Metrics.of(vertx).resume();
          }
          goLive(member);
          return Future.<Void>succeededFuture();
        });
  }

  private JoinTicket openTicket(UUID sid, String sessionId) {
    JoinTicket t = new JoinTicket();
    pendingJoins.computeIfAbsent(sid, k -> new HashMap<>()).computeIfAbsent(sessionId, k -> new ArrayList<>()).add(t);
    return t;
  }

  private void closeTicket(UUID sid, String sessionId, JoinTicket t) {
    Map<String, List<JoinTicket>> mine = pendingJoins.get(sid);
    List<JoinTicket> list = mine == null ? null : mine.get(sessionId);
    if (list != null && list.remove(t) && list.isEmpty()) {
      mine.remove(sessionId);
      if (mine.isEmpty()) {
        pendingJoins.remove(sid);
      }
    }
  }

  /** Marks the joins in flight of {@code sid} (of one session, or all when {@code sessionId} is null) as overtaken. */
  private void overtakeJoins(UUID sid, String sessionId) {
    Map<String, List<JoinTicket>> mine = pendingJoins.get(sid);
    if (mine == null) {
      return;
    }
    if (sessionId == null) {
      mine.values().forEach(list -> list.forEach(t -> t.left = true));
      pendingJoins.remove(sid);
      return;
    }
    List<JoinTicket> list = mine.remove(sessionId);
    if (list != null) {
      list.forEach(t -> t.left = true);
    }
    if (mine.isEmpty()) {
      pendingJoins.remove(sid);
    }
  }

  /** Joins in flight (ownership check or snapshot), all sockets together. */
  int pendingJoinCount() {
    return pendingJoins.values().stream().flatMap(m -> m.values().stream()).mapToInt(List::size).sum();
  }

  /**
   * Releases the events buffered while the join was in flight, after the ack. Deltas buffered before
   * the {@code message.processing} of the attempt the snapshot belongs to are from an older attempt
   * (a worker publishes its deltas before the next claim is published), so they are dropped.
   */
  private void goLive(Member m) {
    if (!isMember(m) || m.syncBuffer == null) {
      return;
    }
    List<Object> buffered = m.syncBuffer;
    m.syncBuffer = null;
    Map<String, Integer> snapshotAttemptStart = new HashMap<>();
    for (int i = 0; i < buffered.size(); i++) {
      if (buffered.get(i) instanceof MessageEvent e && MessageEvent.PROCESSING.equals(e.type())) {
        ReplyCursor c = m.cursors.get(e.message().id());
        if (c != null && e.message().attempts() == c.attempt) {
          snapshotAttemptStart.put(e.message().id(), i);
        }
      }
    }
    for (int i = 0; i < buffered.size(); i++) {
      Object ev = buffered.get(i);
      if (ev instanceof DeltaEvent d && i < snapshotAttemptStart.getOrDefault(d.messageId(), -1)) {
        continue;
      }
      dispatch(m, ev);
    }
  }

  private void dispatch(Member m, Object event) {
    if (event instanceof DeltaEvent d) {
      deliverDelta(m, d);
    } else if (event instanceof QueuedEvent q) {
      if (isMember(m) && !sender.send(m.client, SocketEvents.MESSAGE_QUEUED, q.socketPayload())) {
        removeMember(m);
      }
    } else {
      deliverMessage(m, (MessageEvent) event);
    }
  }

  void leave(UUID sid, String sessionId) {
    onOwnerContext();
    overtakeJoins(sid, sessionId);
    Member m = member(sid, sessionId);
    if (m != null) {
      removeMember(m);
    }
  }

  void leaveAll(UUID sid) {
    onOwnerContext();
    overtakeJoins(sid, null);
    Map<String, Member> mine = memberships.get(sid);
    if (mine != null) {
      new ArrayList<>(mine.values()).forEach(this::removeMember);
    }
  }

  void dropSession(String sessionId) {
    onOwnerContext();
    Map<UUID, Member> room = rooms.get(Ids.lowerIfId(sessionId));
    if (room != null) {
      new ArrayList<>(room.values()).forEach(this::removeMember);
    }
  }

  /** A message domain event from the bus. */
  void onMessageEvent(MessageEvent e) {
    forEachMember(e.sessionId(), e);
  }

  /** A reply of the session waits for a worker slot. */
  void onQueued(QueuedEvent q) {
    forEachMember(q.sessionId(), q);
  }

  /** A streaming delta from the bus. */
  void onDelta(DeltaEvent d) {
    forEachMember(d.sessionId(), d);
  }

  private void forEachMember(String sessionId, Object event) {
    onOwnerContext();
    Map<UUID, Member> room = rooms.get(Ids.lowerIfId(sessionId));
    if (room == null) {
      return;
    }
    for (Member m : new ArrayList<>(room.values())) {
      if (m.syncBuffer != null) {
        if (m.syncBuffer.size() >= MAX_SYNC_BUFFER) {
          log.warn("socket {} fell too far behind while joining {}; disconnecting it", m.sid, sessionId);
          removeMember(m);
          sender.forceClose(m.sid);
          continue;
        }
        m.syncBuffer.add(event);
      } else {
        dispatch(m, event);
      }
    }
  }

  private void deliverMessage(Member m, MessageEvent e) {
    String messageId = e.message().id();
    switch (e.type()) {
      case MessageEvent.PROCESSING -> {
        int attempt = e.message().attempts();
        ReplyCursor c = m.cursors.get(messageId);
        if (c != null && attempt <= c.attempt) {
          return; // the socket's text already belongs to this attempt (it came with the snapshot)
        }
        // a continue or a new version of an ended reply streams again (docs/versions.md)
        m.ended.remove(messageId);
        // a continue's attempt starts after the text it continues (docs/versions.md)
        Integer base = e.message().revisions().continueOffset();
        long start = base == null ? 0 : base;
        if (c == null) {
          m.cursors.put(messageId, new ReplyCursor(start, 0, attempt));
        } else {
          c.restart(attempt, start);
        }
      }
      case MessageEvent.COMPLETED, MessageEvent.FAILED, MessageEvent.CANCELLED -> {
        ReplyCursor c = m.cursors.get(messageId);
        if (c != null && e.message().attempts() < c.attempt) {
          return; // the end of an earlier version, overtaken by the newer one this socket already streams
        }
        m.cursors.remove(messageId);
        m.ended.add(messageId);
      }
      default -> { }
    }
    if (!sender.send(m.client, e.type(), e.message().toJson())) {
      removeMember(m);
    }
  }

  private void deliverDelta(Member m, DeltaEvent d) {
    if (!isMember(m) || m.ended.contains(d.messageId())) {
      return;
    }
    ReplyCursor c = m.cursors.computeIfAbsent(d.messageId(), k -> new ReplyCursor(0, 0, 0));
    switch (c.classify(d)) {
      case DELIVER -> {
        if (!sender.send(m.client, SocketEvents.MESSAGE_DELTA, deltaJson(c.unseenPart(d)))) {
          removeMember(m);
        }
      }
      case HOLD -> c.held.add(d);
      case GAP -> {
        long ticket = c.beginResync();
        c.held.add(d);
        resync(m, d, c, ticket);
      }
      case DUPLICATE, STALE -> { }
      case FENCED -> {
        if (!c.fencedLogged) {
          c.fencedLogged = true;
          log.info("reply {} of socket {}: dropped a delta of attempt {} (the socket follows attempt {}); a worker"
              + " that lost its lease is still streaming", d.messageId(), m.sid, d.attempt(), c.attempt);
        }
      }
    }
  }

  /**
   * Fills a gap: the text so far from the worker (or the checkpoint), sent as one delta. An answer
   * that comes back after the cursor restarted for a newer attempt ({@code message.processing}) is
   * dropped: it and the deltas held meanwhile belonged to the earlier attempt, and the restart already
   * discarded them.
   */
  private void resync(Member m, DeltaEvent trigger, ReplyCursor c, long ticket) {
    progress(trigger.messageId())
        .recover(err -> store
            .getMessage(m.userId, m.sessionId, trigger.messageId())
            .map(msg -> new JsonObject().put("seq", 0L).put("text", msg.content()).put("attempt", msg.attempts())))
        .onComplete(ar -> {
          if (!c.answers(ticket)) {
            return;
          }
          c.resyncing = false;
          if (!isMember(m) || m.cursors.get(trigger.messageId()) != c) {
            return;
          }
          boolean sameAttempt = ar.succeeded()
              && (c.attempt == 0 || ar.result().getInteger("attempt", c.attempt) == c.attempt);
          String text = sameAttempt ? ar.result().getString("text", "") : "";
          if (text.length() > c.length) {
            DeltaEvent fill = new DeltaEvent(m.userId, m.sessionId, trigger.messageId(),
                ar.result().getLong("seq", 0L), c.length, text.substring((int) c.length));
            sender.send(m.client, SocketEvents.MESSAGE_DELTA, deltaJson(c.unseenPart(fill)));
          }
          List<DeltaEvent> held = new ArrayList<>(c.held);
          c.held.clear();
          for (DeltaEvent d : held) {
            if (c.classify(d) == ReplyCursor.Verdict.GAP) {
              log.warn("reply {} of socket {}: no source for the missing text; waiting for the final event",
                  trigger.messageId(), m.sid);
              c.stale = true;
              return;
            }
            deliverDelta(m, d);
          }
        });
  }

  private Future<List<Snapshot>> snapshot(String userId, String sessionId) {
    return store
        .findActiveReplies(userId, sessionId)
        .compose(active -> Future.all(active.stream().map(this::snapshotOf).toList())
            .map(all -> all.<Snapshot>list()));
  }

  private Future<Snapshot> snapshotOf(ChatMessage m) {
    return progress(m.id())
        .map(p -> new Snapshot(m, p.getLong("seq", 0L), p.getString("text", ""), p.getInteger("attempt", m.attempts())))
        .recover(err -> Future.succeededFuture(
            new Snapshot(m, 0, m.content() == null ? "" : m.content(), m.attempts())));
  }

  private Future<JsonObject> progress(String messageId) {
    return vertx.eventBus()
        .<JsonObject>request(Addresses.aiProgress(messageId), new JsonObject(),
            new DeliveryOptions().setSendTimeout(PROGRESS_TIMEOUT_MS))
        .map(msg -> msg.body());
  }

  static JsonObject deltaJson(DeltaEvent d) {
    return new JsonObject()
        .put("messageId", d.messageId())
        .put("sessionId", d.sessionId())
        .put("seq", d.seq())
        .put("offset", d.offset())
        .put("text", d.text());
  }

  private void addMember(Member m) {
    Member old = member(m.sid, m.sessionId);
    if (old != null) {
      removeMember(old);
    }
    rooms.computeIfAbsent(m.sessionId, k -> new HashMap<>()).put(m.sid, m);
    memberships.computeIfAbsent(m.sid, k -> new HashMap<>()).put(m.sessionId, m);
  }

  private void removeMember(Member m) {
    Map<UUID, Member> room = rooms.get(m.sessionId);
    if (room != null && room.get(m.sid) == m) {
      room.remove(m.sid);
      if (room.isEmpty()) {
        rooms.remove(m.sessionId);
      }
    }
    Map<String, Member> mine = memberships.get(m.sid);
    if (mine != null && mine.get(m.sessionId) == m) {
      mine.remove(m.sessionId);
      if (mine.isEmpty()) {
        memberships.remove(m.sid);
      }
    }
  }

  /** Whether {@code sid} is (or is becoming) a member of the session's room. */
  boolean isJoined(UUID sid, String sessionId) {
    return member(sid, sessionId) != null;
  }

  private boolean isMember(Member m) {
    return member(m.sid, m.sessionId) == m;
  }

  private Member member(UUID sid, String sessionId) {
    Map<String, Member> mine = memberships.get(sid);
    return mine == null ? null : mine.get(sessionId);
  }
}
