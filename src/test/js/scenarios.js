'use strict';
// Socket.IO client scenarios for the gateway's JUnit tests. Each run prints protocol lines on stdout:
//   READY <json>   the client side is set up; the Java test may now act (publish, send a message)
//   RESULT <json>  the outcome; the process then exits
// The Java side may answer on stdin with one line per command (e.g. "NEXT").
const { io } = require('socket.io-client');
const readline = require('readline');
const crypto = require('crypto');

const sha256 = (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

const [, , scenario, argJson] = process.argv;
const args = JSON.parse(argJson || '{}');

const out = (kind, obj) => process.stdout.write(`${kind} ${JSON.stringify(obj)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const stdinLines = [];
let stdinWaiter = null;
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (stdinWaiter) { const w = stdinWaiter; stdinWaiter = null; w(line); } else { stdinLines.push(line); }
});
const nextCommand = () => new Promise((resolve) => {
  if (stdinLines.length) resolve(stdinLines.shift()); else stdinWaiter = resolve;
});

function withTimeout(promise, ms, stage) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`timeout: ${stage}`)), ms); }),
  ]).finally(() => clearTimeout(t));
}

function connect(opts) {
  const socket = io(args.url, { reconnection: false, forceNew: true, timeout: 5000, ...opts });
  const connected = new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(Object.assign(new Error(err.message), { data: err.data })));
  });
  return { socket, connected };
}

function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve) => engine.once('upgrade', () => resolve()));
}

// Assembles reply texts with the documented rule: a delta is applied only at offset == length.
function assembler(socket) {
  const state = { texts: {}, completed: {}, violations: [], deltas: 0, events: [] };
  // the documented reset: "" for a new attempt or version, the text so far for a continue (docs/versions.md)
  socket.on('message.processing', (m) => {
    state.texts[m.id] = (m.content || '').slice(0, m.continueOffset ?? 0);
    state.events.push('message.processing');
  });
  socket.on('message.created', (m) => state.events.push('message.created:' + m.messageType));
  socket.on('message.delta', (d) => {
    state.deltas++;
    const have = state.texts[d.messageId] || '';
    if (d.offset === have.length) state.texts[d.messageId] = have + d.text;
    else state.violations.push({ messageId: d.messageId, offset: d.offset, have: have.length, seq: d.seq });
    if (state.events[state.events.length - 1] !== 'message.delta') state.events.push('message.delta');
  });
  for (const type of ['message.completed', 'message.failed', 'message.cancelled']) {
    socket.on(type, (m) => { state.completed[m.id] = { type, content: m.content }; state.events.push(type); });
  }
  state.applySnapshot = (ack) => { for (const r of ack.replies || []) state.texts[r.messageId] = r.text; };
  return state;
}

// Joins with an ack callback, applying the snapshot inside it: the ack callback runs before any later
// packet is handled, whereas code after `await emitWithAck(...)` runs only after the other packets that
// arrived in the same network read (which may already carry deltas).
function join(socket, sessionId, state) {
  return new Promise((resolve) => socket.emit('join', { sessionId }, (ack) => {
    if (ack && ack.ok && state) state.applySnapshot(ack);
    resolve(ack);
  }));
}

const scenarios = {
  // One socket of a user: records every session.updated of args.sessionId; finishes settleMs after one
  // carrying args.title arrived (the title job's), reporting them all in order.
  async sessionUpdates() {
    const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
    await withTimeout(connected, 10000, 'connect');
    const updates = [];
    let seen;
    const titled = new Promise((resolve) => { seen = resolve; });
    socket.on('session.updated', (s) => {
      if (s.id !== args.sessionId) return;
      updates.push({ title: s.title, titleSource: s.titleSource });
      if (s.title === args.title) seen();
    });
    out('READY', {});
    await withTimeout(titled, 30000, 'session.updated with the title');
    await sleep(args.settleMs || 0);
    socket.disconnect();
    return { updates };
  },

  // N sequential sessions: connect, (upgrade), ack, receive a user-room broadcast, disconnect.
  async sessions() {
    const failures = [];
    let upgradedCount = 0;
    const started = Date.now();
    for (let i = 0; i < args.count; i++) {
      let stage = 'connect';
      const { socket, connected } = connect({ auth: { token: args.token }, transports: args.transports });
      try {
        await withTimeout(connected, 10000, stage);
        if (!args.transports) {
          stage = 'upgrade';
          await withTimeout(upgraded(socket), 10000, stage);
          upgradedCount++;
        }
        stage = 'ack';
        const ack = await withTimeout(socket.emitWithAck('leave', { sessionId: 'not-an-id' }), 10000, stage);
        if (!ack || ack.ok !== false || ack.error.code !== 'VALIDATION_FAILED') throw new Error('bad ack ' + JSON.stringify(ack));
        stage = 'broadcast';
        const got = new Promise((resolve) => socket.once('session.updated', resolve));
        out('READY', { i });
        const session = await withTimeout(got, 10000, stage);
        if (session.title !== `round ${i}`) throw new Error('wrong broadcast ' + JSON.stringify(session));
      } catch (e) {
        failures.push({ i, stage, error: e.message });
      } finally {
        socket.disconnect();
      }
    }
    return { count: args.count, failures, upgraded: upgradedCount, ms: Date.now() - started };
  },

  // Upgrade stress: args.count default-transport sessions (polling, then the websocket upgrade),
  // args.parallel at a time. Each connects, upgrades, joins args.sessionId (ack ok), then sends a
  // second event and waits for its ack over the websocket, and disconnects. A failed session reports
  // its stage, its engine.io session id, the state of its polling transport and a trace of what its
  // engine did (polls, packets, upgrade events), so that a failure can be read without a rerun.
  async upgrades() {
    const failures = [];
    let upgradedCount = 0;
    let next = 0;
    const started = Date.now();
    const one = async (i) => {
      let stage = 'connect';
      const t0 = Date.now();
      const trace = [];
      const stamp = (what) => trace.push(`${Date.now() - t0}ms ${what}`);
      const { socket, connected } = connect({ auth: { token: args.token } });
      const engine = socket.io.engine;
      const polling = engine.transport;
      const short = (p) => p.type + (p.data === undefined ? '' : ' ' + String(p.data).slice(0, 40));
      polling.on('poll', () => stamp('poll: GET sent'));
      polling.on('pollComplete', () => stamp('poll: complete'));
      polling.on('packet', (p) => stamp('polling <- ' + short(p)));
      polling.on('drain', () => stamp('polling: POST done'));
      engine.on('packetCreate', (p) => stamp('-> ' + short(p)));
      engine.on('upgrading', (t) => {
        stamp('upgrading (pong probe on ' + t.name + ')');
        t.on('packet', (p) => stamp('websocket <- ' + short(p)));
      });
      engine.on('upgrade', () => stamp('upgraded'));
      engine.on('upgradeError', (e) => stamp('upgradeError: ' + e.message));
      engine.on('close', (r, d) => stamp('engine close: ' + r + (d && d.description ? ' ' + d.description : '')));
      socket.on('disconnect', (r) => stamp('socket disconnect: ' + r));
      try {
        await withTimeout(connected, 10000, stage);
        stamp('connected over ' + engine.transport.name);
        stage = 'upgrade';
        await withTimeout(upgraded(socket), 10000, stage);
        upgradedCount++;
        stage = 'join';
        const ack = await withTimeout(socket.emitWithAck('join', { sessionId: args.sessionId }), 10000, stage);
        if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
        stage = 'ack';
        const left = await withTimeout(socket.emitWithAck('leave', { sessionId: args.sessionId }), 10000, stage);
        if (!left || !left.ok) throw new Error('bad leave ack ' + JSON.stringify(left));
      } catch (e) {
        const state = { transport: engine.transport && engine.transport.name, upgrading: engine.upgrading,
          pollingState: polling.readyState, polling: polling._polling, pollingWritable: polling.writable };
        failures.push({ i, stage, error: e.message, sid: engine.id, state, trace });
      } finally {
        socket.disconnect();
      }
    };
    const worker = async () => { while (next < args.count) await one(next++); };
    await Promise.all(Array.from({ length: args.parallel || 1 }, worker));
    return { count: args.count, failures, upgraded: upgradedCount, ms: Date.now() - started };
  },

  // Each case connects with a credential in one place and reports connect or connect_error.
  async refusals() {
    const results = {};
    for (const c of args.cases) {
      const opts = {};
      if (c.mode === 'auth') opts.auth = { token: c.token };
      if (c.mode === 'query') opts.query = { token: c.token };
      if (c.mode === 'header') opts.extraHeaders = { Authorization: `Bearer ${c.token}` };
      const { socket, connected } = connect({ ...opts, transports: c.transports });
      try {
        await withTimeout(connected, 8000, 'connect');
        results[c.name] = { connected: true, id: socket.id };
      } catch (e) {
        results[c.name] = { connected: false, message: e.message, data: e.data };
      } finally {
        socket.disconnect();
      }
    }
    return results;
  },

  // Clients join sessions; every received event is recorded until the Java side says STOP.
  async listen() {
    const clients = [];
    for (const c of args.clients) {
      const { socket, connected } = connect({ auth: { token: c.token }, transports: ['websocket'] });
      await withTimeout(connected, 10000, 'connect');
      const state = assembler(socket);
      const received = [];
      socket.onAny((event, payload) => received.push({ event, payload }));
      const entry = { name: c.name, socket, state, received, joins: {} };
      for (const sessionId of c.join || []) {
        entry.joins[sessionId] = await withTimeout(join(socket, sessionId, state), 10000, 'join');
      }
      clients.push(entry);
    }
    out('READY', { clients: clients.length });
    await nextCommand();
    if (args.awaitEvent) {
      // STOP comes when the server published the event; wait for it to reach this client, however slowly
      const c = clients.find((x) => x.name === args.awaitEvent.client);
      await withTimeout(new Promise((resolve) => {
        const check = () => { if (c.received.some((r) => r.event === args.awaitEvent.event)) resolve(); };
        c.socket.onAny(check);
        check();
      }), 20000, 'await ' + args.awaitEvent.event);
    }
    await sleep(args.settleMs || 0);
    const result = clients.map((c) => ({
      name: c.name, joins: c.joins, received: args.summary ? undefined : c.received,
      eventCount: c.received.length, texts: c.state.texts, violations: c.state.violations,
      completed: c.state.completed,
    }));
    clients.forEach((c) => c.socket.disconnect());
    return { clients: result };
  },

  // Many clients of one session: counts what each received; finishes when all have `expect` events.
  async room() {
    const started = Date.now();
    const clients = await Promise.all(Array.from({ length: args.clients }, async () => {
      const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
      await withTimeout(connected, 20000, 'connect');
      const state = assembler(socket);
      const ack = await withTimeout(join(socket, args.sessionId, state), 20000, 'join');
      if (!ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      let count = 0;
      const done = new Promise((resolve) => socket.onAny(() => { if (++count === args.expect) resolve(); }));
      return { socket, state, done, count: () => count };
    }));
    const connectedMs = Date.now() - started;
    out('READY', { clients: clients.length });
    const t0 = Date.now();
    let timedOut = false;
    try {
      await withTimeout(Promise.all(clients.map((c) => c.done)), 30000, 'events');
    } catch (e) { timedOut = true; }
    const deliveredMs = Date.now() - t0;
    const counts = clients.map((c) => c.count());
    const texts = clients.map((c) => sha256(Object.values(c.state.texts).join('|')));
    clients.forEach((c) => c.socket.disconnect());
    return { timedOut, counts, distinctTextHashes: [...new Set(texts)], violations: clients.reduce((n, c) => n + c.state.violations.length, 0), connectedMs, deliveredMs };
  },

  // One reply watched live; with `dropAfterDeltas`, the socket disconnects mid-generation, reconnects
  // and rejoins, and the assembled text must still be exact.
  async reply() {
    const session = async () => {
      const { socket, connected } = connect({ auth: { token: args.token } });
      await withTimeout(connected, 10000, 'connect');
      const state = assembler(socket);
      const ack = await withTimeout(join(socket, args.sessionId, state), 10000, 'join');
      if (!ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      return { socket, state, ack };
    };
    let first = await session();
    const finished = (s) => new Promise((resolve) => {
      const check = () => { if (Object.values(s.state.completed).some((c) => c.type === 'message.completed')) resolve(); };
      s.socket.on('message.completed', check);
      check();
    });
    out('READY', {});
    let current = first;
    let resumed = null;
    if (args.dropAfterDeltas) {
      await withTimeout(new Promise((resolve) => {
        first.socket.on('message.delta', () => { if (first.state.deltas >= args.dropAfterDeltas) resolve(); });
      }), 20000, 'first deltas');
      const before = { ...first.state.texts };
      first.socket.io.engine.close(); // abrupt: like a network drop
      await sleep(args.pauseMs || 150);
      current = await session();
      resumed = { before, snapshot: current.ack.replies };
      // carry what the first socket had for messages the snapshot does not mention (already final)
      for (const [id, t] of Object.entries(first.state.texts)) if (!(id in current.state.texts)) current.state.texts[id] = t;
    }
    await withTimeout(finished(current), 60000, 'completed');
    const result = { texts: current.state.texts, completed: current.state.completed, violations: current.state.violations,
      deltas: first.state.deltas + (resumed ? current.state.deltas : 0), events: first.state.events, resumed,
      ackReplies: first.ack.replies.length };
    current.socket.disconnect();
    return result;
  },
  // Clients join one session at staggered moments while a reply streams; each assembles the reply.
  async joiners() {
    out('READY', {});
    const results = await Promise.all(args.delays.map(async (delay, i) => {
      await sleep(delay);
      const { socket, connected } = connect({ auth: { token: args.token }, transports: i % 2 ? ['websocket'] : undefined });
      await withTimeout(connected, 10000, 'connect');
      const state = assembler(socket);
      const ack = await withTimeout(join(socket, args.sessionId, state), 10000, 'join');
      if (!ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      const snapshotLength = (ack.replies.find((r) => r.messageId === args.messageId) || { text: '' }).text.length;
      out('READY', { joined: i }); // the Java side completes the reply only once every client has joined
      await withTimeout(new Promise((resolve) => {
        const check = () => { if (state.completed[args.messageId]) resolve(); };
        socket.on('message.completed', check);
        check();
      }), 30000, 'completed');
      socket.disconnect();
      return { text: state.texts[args.messageId], violations: state.violations.length, snapshotLength };
    }));
    return { clients: results };
  },

  // Fan-out timing (com.aichat.bench.SocketBenchmark): many clients join one session; each records when
  // every delta of the reply arrived (Date.now(), ms) and finishes at that reply's message.completed.
  async fanout() {
    const started = Date.now();
    const clients = await Promise.all(Array.from({ length: args.clients }, async () => {
      const { socket, connected } = connect({ auth: { token: args.token }, transports: args.transports });
      await withTimeout(connected, 20000, 'connect');
      const state = assembler(socket);
      const ack = await withTimeout(join(socket, args.sessionId, state), 20000, 'join');
      if (!ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      const arrivals = [];
      socket.on('message.delta', (d) => arrivals.push([d.seq, Date.now()]));
      const done = new Promise((resolve) => socket.on('message.completed', (m) => resolve(m)));
      return { socket, state, arrivals, done };
    }));
    const connectedMs = Date.now() - started;
    out('READY', { clients: clients.length });
    let timedOut = false;
    try {
      await withTimeout(Promise.all(clients.map((c) => c.done)), 50000, 'completed');
    } catch (e) { timedOut = true; }
    const result = {
      timedOut, connectedMs,
      arrivals: clients.map((c) => c.arrivals),
      textHashes: [...new Set(clients.map((c) => sha256(Object.values(c.state.texts).join('|'))))],
      completedHashes: [...new Set(clients.map((c) => sha256(Object.values(c.state.completed).map((x) => x.content).join('|'))))],
      violations: clients.reduce((n, c) => n + c.state.violations.length, 0),
    };
    clients.forEach((c) => c.socket.disconnect());
    return result;
  },

  // Arrival times (Date.now(), ms) of each reply's first message.delta and of its message.completed in
  // one session, until the Java side sends a line (com.aichat.bench.StoreScaleBenchmark). Bounded by
  // args.maxMs, and ends when stdin closes (the JVM went away). With args.clients ([{token, sessionId}],
  // com.aichat.bench.ReplyCostBenchmark) one socket per entry, connected and joined args.batch at a time;
  // with args.precise the times are fractional ms (performance.timeOrigin + performance.now()).
  async timeline() {
    const now = args.precise ? () => performance.timeOrigin + performance.now() : () => Date.now();
    const firstDelta = {};
    const completed = {};
    const one = async ({ token, sessionId }) => {
      const { socket, connected } = connect({ auth: { token }, transports: ['websocket'] });
      await withTimeout(connected, 20000, 'connect');
      socket.on('message.delta', (d) => { if (!(d.messageId in firstDelta)) firstDelta[d.messageId] = now(); });
      socket.on('message.completed', (m) => { if (!(m.id in completed)) completed[m.id] = now(); });
      const ack = await withTimeout(join(socket, sessionId, null), args.joinTimeoutMs || 60000, 'join');
      if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      return socket;
    };
    const wanted = args.clients || [{ token: args.token, sessionId: args.sessionId }];
    const sockets = [];
    for (let i = 0; i < wanted.length; i += args.batch || 1) {
      sockets.push(...await Promise.all(wanted.slice(i, i + (args.batch || 1)).map(one)));
    }
    process.stdin.once('end', () => process.exit(0));
    out('READY', { clients: sockets.length });
    await withTimeout(nextCommand(), args.maxMs || 600000, 'stop command');
    sockets.forEach((s) => s.disconnect());
    return { firstDelta, completed };
  },

  // Floods one socket with `count` leave events (acks recorded) and reports the ack codes and whether
  // the server disconnected it.
  async flood() {
    // One event after another, each waiting for its ack (at most 1 s): acks of served events are
    // asynchronous, so firing all at once would let the disconnect overtake them.
    const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
    await withTimeout(connected, 10000, 'connect');
    const codes = {};
    let disconnected = false;
    socket.on('disconnect', () => { disconnected = true; });
    const started = Date.now();
    for (let i = 0; i < args.count && !disconnected; i++) {
      const ack = await new Promise((resolve) => {
        const t = setTimeout(() => resolve(null), 1000);
        socket.emit('leave', { sessionId: args.sessionId }, (a) => { clearTimeout(t); resolve(a); });
      });
      if (ack) {
        const k = ack.ok ? 'ok' : ack.error.code;
        codes[k] = (codes[k] || 0) + 1;
      }
    }
    const elapsedMs = Date.now() - started;
    await sleep(args.settleMs || 500);
    socket.disconnect();
    return { codes, disconnected, elapsedMs };
  },

  // Opens `count` sockets of one user, then closes the first and opens one more.
  async sockets() {
    const results = [];
    const open = [];
    const one = async () => {
      const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
      try {
        await withTimeout(connected, 8000, 'connect');
        open.push(socket);
        return { connected: true };
      } catch (e) {
        socket.disconnect();
        return { connected: false, message: e.message, code: e.data && e.data.code };
      }
    };
    for (let i = 0; i < args.count; i++) results.push(await one());
    open.shift().disconnect();
    await sleep(300);
    const afterClose = await one();
    open.forEach((s) => s.disconnect());
    return { results, afterClose };
  },

  // join then leave at once, without waiting for the join's ack; then listens until told to stop.
  async joinLeave() {
    const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
    await withTimeout(connected, 10000, 'connect');
    const received = [];
    socket.onAny((event) => received.push(event));
    const acks = await withTimeout(Promise.all([
      new Promise((resolve) => socket.emit('join', { sessionId: args.sessionId }, resolve)),
      new Promise((resolve) => socket.emit('leave', { sessionId: args.sessionId }, resolve)),
    ]), 10000, 'acks');
    out('READY', {});
    await nextCommand();
    await sleep(args.settleMs || 500);
    socket.disconnect();
    return { join: acks[0], leave: acks[1], received };
  },

  // Connects and joins a session; reports the server.draining notice, the disconnect that follows it,
  // and whether the draining node refuses a new connection.
  async drain() {
    const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
    await withTimeout(connected, 10000, 'connect');
    const ack = await withTimeout(join(socket, args.sessionId, null), 10000, 'join');
    if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
    let notice = null;
    let noticeAt = 0;
    socket.on('server.draining', (p) => { notice = p; noticeAt = Date.now(); });
    const disconnected = new Promise((resolve) => socket.once('disconnect', (reason) => resolve({ reason, at: Date.now() })));
    out('READY', {});
    const gone = await withTimeout(disconnected, 30000, 'disconnect');
    const again = connect({ auth: { token: args.token }, transports: ['websocket'] });
    let retry;
    try {
      await withTimeout(again.connected, 5000, 'reconnect');
      retry = { connected: true };
    } catch (e) {
      retry = { connected: false, message: e.message, data: e.data };
    } finally {
      again.socket.disconnect();
    }
    return { notice, noticeToDisconnectMs: notice ? gone.at - noticeAt : null, reason: gone.reason, retry };
  },

  // Connects and reports what happens when the token expires.
  async expiry() {
    const { socket, connected } = connect({ auth: { token: args.token } });
    await withTimeout(connected, 10000, 'connect');
    const t0 = Date.now();
    let expired = null;
    socket.on('auth.expired', (p) => { expired = p; });
    const reason = await withTimeout(new Promise((resolve) => socket.once('disconnect', resolve)), 15000, 'disconnect');
    return { reason, expired, afterMs: Date.now() - t0 };
  },

  // Gateways on several nodes: each client (its own user and session) connects over websocket to its
  // gateway `url` and joins. READY {stage:'joined'}; READY {stage:'streaming'} once every client saw
  // `streamingDeltas` deltas of its reply. A client with `resumeUrl` that its server disconnects (a
  // rolling restart) connects to `resumeUrl`, joins again and applies the snapshot to the same text.
  // Ends when every client has a final event; reports what each received.
  async gateways() {
    const clients = args.clients.map((c) => ({
      ...c, texts: {}, completed: {}, violations: [], deltas: 0, deltasAfterMove: 0, events: [],
      sessionIds: new Set(), processing: 0, moved: false, disconnectReason: null, draining: false, snapshots: [],
    }));
    const track = (c, socket, after) => {
      socket.onAny((event, payload) => {
        const sid = payload && (payload.sessionId || (payload.message && payload.message.sessionId));
        if (sid) c.sessionIds.add(sid);
        c.events.push(event);
      });
      socket.on('message.processing', (m) => { c.processing++; c.texts[m.id] = ''; });
      socket.on('message.delta', (d) => {
        c.deltas++;
        if (after) c.deltasAfterMove++;
        const have = c.texts[d.messageId] || '';
        if (d.offset === have.length) c.texts[d.messageId] = have + d.text;
        else if (d.offset > have.length) c.violations.push({ messageId: d.messageId, offset: d.offset, have: have.length, seq: d.seq });
        // an offset below the length repeats text the client has: skipped by the documented rule
      });
      socket.on('server.draining', () => { c.draining = true; });
      for (const type of ['message.completed', 'message.failed', 'message.cancelled']) {
        socket.on(type, (m) => { c.completed[m.id] = { type, content: m.content }; });
      }
    };
    const joinWith = (c, socket) => new Promise((resolve) => socket.emit('join', { sessionId: c.sessionId }, (ack) => {
      if (ack && ack.ok) {
        for (const r of ack.replies || []) c.texts[r.messageId] = r.text;
        c.snapshots.push((ack.replies || []).map((r) => ({ messageId: r.messageId, status: r.status, length: r.text.length })));
      }
      resolve(ack);
    }));
    const open = async (c, url, after) => {
      const socket = io(url, { reconnection: false, forceNew: true, timeout: 5000, transports: ['websocket'], auth: { token: c.token } });
      track(c, socket, after);
      await withTimeout(new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', (err) => reject(new Error(err.message)));
      }), 10000, 'connect ' + c.name);
      const ack = await withTimeout(joinWith(c, socket), 10000, 'join ' + c.name);
      if (!ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      c.socket = socket;
      return socket;
    };
    await Promise.all(clients.map((c) => open(c, c.url, false)));
    const moves = clients.filter((c) => c.resumeUrl).map((c) => new Promise((resolve, reject) => {
      c.socket.once('disconnect', (reason) => {
        c.disconnectReason = reason;
        c.moved = true;
        open(c, c.resumeUrl, true).then(resolve, reject);
      });
    }));
    out('READY', { stage: 'joined' });
    await withTimeout(new Promise((resolve) => {
      const check = () => { if (clients.every((c) => c.deltas >= args.streamingDeltas)) resolve(); else setTimeout(check, 5); };
      check();
    }), 30000, 'streaming');
    out('READY', { stage: 'streaming' });
    await withTimeout(Promise.all(moves), 30000, 'moves');
    await withTimeout(new Promise((resolve) => {
      const check = () => { if (clients.every((c) => Object.keys(c.completed).length > 0)) resolve(); else setTimeout(check, 20); };
      check();
    }), 60000, 'completed');
    await sleep(args.settleMs || 300);
    clients.forEach((c) => c.socket.disconnect());
    return { clients: clients.map((c) => ({
      name: c.name, sessionIds: [...c.sessionIds], texts: c.texts, completed: c.completed, violations: c.violations,
      deltas: c.deltas, deltasAfterMove: c.deltasAfterMove, processing: c.processing, moved: c.moved,
      disconnectReason: c.disconnectReason, draining: c.draining, snapshots: c.snapshots,
    })) };
  },

  // Cluster failover: clients join sessions and record, per reply, every generation attempt the
  // gateway announced (message.processing, with the client's clock), the deltas of each attempt, the
  // text assembled by the documented rule, final events, and deltas arriving after a final event.
  // Runs until the Java side sends STOP; `settleMs` later it reports.
  async failover() {
    const clients = [];
    const replies = {};
    const reply = (id) => (replies[id] = replies[id] || {
      attempts: [], finals: [], text: '', violations: 0, deltasAfterFinal: 0, deltasBeforeProcessing: 0,
    });
    for (const c of args.clients) {
      const { socket, connected } = connect({ auth: { token: c.token }, transports: ['websocket'] });
      await withTimeout(connected, 20000, 'connect');
      socket.on('message.processing', (m) => {
        const r = reply(m.id);
        r.attempts.push({ attempt: m.attempts, at: Date.now(), deltas: 0, firstDeltaAt: null });
        r.text = '';
      });
      socket.on('message.delta', (d) => {
        const r = reply(d.messageId);
        if (r.finals.length) { r.deltasAfterFinal++; return; }
        const a = r.attempts[r.attempts.length - 1];
        if (!a) r.deltasBeforeProcessing++;
        else { a.deltas++; if (a.firstDeltaAt === null) a.firstDeltaAt = Date.now(); }
        if (d.offset === r.text.length) r.text += d.text; else r.violations++;
      });
      for (const type of ['message.completed', 'message.failed', 'message.cancelled']) {
        socket.on(type, (m) => reply(m.id).finals.push({ type, content: m.content, at: Date.now() }));
      }
      for (const sessionId of c.join) {
        const ack = await withTimeout(new Promise((resolve) => socket.emit('join', { sessionId }, resolve)), 20000, 'join');
        if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
      }
      clients.push(socket);
    }
    out('READY', { clients: clients.length });
    await nextCommand();
    await sleep(args.settleMs || 0);
    clients.forEach((s) => s.disconnect());
    return { replies };
  },

  // Versions, continue and feedback (docs/versions.md): one socket joined to a session applies every
  // reply with the documented rule (reset on message.processing to content.slice(0, continueOffset ?? 0))
  // and records each generation's text, until the Java side sends STOP.
  async versions() {
    const { socket, connected } = connect({ auth: { token: args.token }, transports: ['websocket'] });
    await withTimeout(connected, 10000, 'connect');
    const texts = {};
    const generations = [];
    const violations = [];
    const updated = [];
    socket.on('message.processing', (m) => {
      texts[m.id] = (m.content || '').slice(0, m.continueOffset ?? 0);
      generations.push({ id: m.id, version: m.version, attempts: m.attempts, start: texts[m.id].length, firstOffset: null });
    });
    socket.on('message.delta', (d) => {
      const have = texts[d.messageId] ?? '';
      const g = generations.filter((x) => x.id === d.messageId).pop();
      if (g && g.firstOffset === null) g.firstOffset = d.offset;
      if (d.offset === have.length) texts[d.messageId] = have + d.text;
      else violations.push({ messageId: d.messageId, offset: d.offset, have: have.length, seq: d.seq });
    });
    socket.on('message.updated', (m) => updated.push({ id: m.id, status: m.status, version: m.version,
      feedback: m.feedback || null, continueOffset: m.continueOffset ?? null, content: m.content }));
    const finals = [];
    for (const type of ['message.completed', 'message.failed', 'message.cancelled']) {
      socket.on(type, (m) => {
        const g = generations.filter((x) => x.id === m.id).pop();
        if (g) g.text = texts[m.id];
        finals.push({ type, id: m.id, version: m.version, content: m.content, stopReason: m.stopReason || null });
      });
    }
    const ack = await withTimeout(new Promise((resolve) => socket.emit('join', { sessionId: args.sessionId }, (a) => {
      if (a && a.ok) for (const r of a.replies || []) texts[r.messageId] = r.text;
      resolve(a);
    })), 10000, 'join');
    if (!ack || !ack.ok) throw new Error('join refused ' + JSON.stringify(ack));
    out('READY', {});
    while ((await nextCommand()) !== 'STOP') { /* wait */ }
    await sleep(args.settleMs || 100);
    socket.disconnect();
    return { generations, violations, updated, finals, texts };
  },
};

(async () => {
  try {
    const value = await scenarios[scenario]();
    process.stdout.write(`RESULT ${JSON.stringify({ ok: true, value })}\n`, () => process.exit(0));
  } catch (e) {
    process.stdout.write(`RESULT ${JSON.stringify({ ok: false, error: e.message })}\n`, () => process.exit(0));
  }
})();
