// The Socket.IO side, exactly as docs/events.md describes it: connect with auth.token, join the open
// session with an acknowledged `join` on every `connect`, apply the resume snapshot inside the ack
// callback, and keep one string per reply, appending a delta only when delta.offset === text.length.
import { io } from '/vendor/socket.io.esm.min.js';

export class ChatSocket {
  /**
   * @param url gateway URL
   * @param token the JWT
   * @param handlers { connection(state, detail), snapshot(sessionId, replies), event(name, payload),
   *     joinFailed(sessionId, error), unauthenticated(message) }
   */
  constructor(url, token, handlers) {
    this.handlers = handlers;
    this.sessionId = null;
    this.joinSeq = 0;
    this.socket = io(url, { auth: { token } });
    const s = this.socket;
    s.on('connect', () => {
      handlers.connection('connected');
      this.join();
    });
    s.on('disconnect', (reason) => {
      // "io server disconnect" (e.g. token expired) and our own disconnect() do not reconnect by themselves
      handlers.connection(s.active ? 'reconnecting' : 'offline', reason);
    });
    s.io.on('reconnect_attempt', () => handlers.connection('reconnecting'));
    s.on('connect_error', (err) => {
      if (err.data?.code === 'UNAUTHENTICATED') {
        handlers.unauthenticated(err.message);
      } else {
        handlers.connection(s.active ? 'reconnecting' : 'offline', err.message);
      }
    });
    s.on('auth.expired', (e) => handlers.unauthenticated(e?.message ?? 'token expired'));
    for (const name of ['message.created', 'message.queued', 'message.processing', 'message.delta',
      'message.completed', 'message.failed', 'message.cancelled', 'message.updated',
      'session.created', 'session.updated', 'session.deleted']) {
      s.on(name, (payload) => handlers.event(name, payload));
    }
  }

  /** Makes {@code sessionId} the open session: leaves the previous one, joins this one. */
  open(sessionId) {
    if (this.sessionId && this.sessionId !== sessionId && this.socket.connected) {
      this.socket.emit('leave', { sessionId: this.sessionId });
    }
    this.sessionId = sessionId;
    this.join();
  }

  join() {
    const sessionId = this.sessionId;
    if (!sessionId || !this.socket.connected) {
      return;
    }
    const seq = ++this.joinSeq;
    this.socket.emit('join', { sessionId }, (ack) => {
      if (seq !== this.joinSeq) {
        return; // a newer join (another session, or a reconnect) replaced this one
      }
      if (!ack?.ok) {
        this.handlers.joinFailed(sessionId, ack?.error ?? { code: 'UNKNOWN', message: 'join failed' });
        return;
      }
      // here, inside the ack callback: the deltas that continue the snapshot are handled after it
      this.handlers.snapshot(sessionId, ack.replies ?? []);
    });
  }

  /** Forces a transport close: the client reconnects by itself and rejoins (for trying resume). */
  dropConnection() {
    this.socket.io.engine?.close();
  }

  reconnect() {
    this.socket.connect();
  }

  close() {
    this.socket.disconnect();
  }
}
