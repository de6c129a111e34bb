'use strict';
// A minimal chat frontend, written from docs/events.md and the README only. Parameters come in the
// URL fragment (never sent to a server): api, gateway, token, mode ("stream" or "connect").
// The outcome lands in window.__result for BrowserStreamingTest to read.
(function () {
  const params = new URLSearchParams(location.hash.slice(1));
  const api = params.get('api');
  const gateway = params.get('gateway');
  const token = params.get('token');
  const mode = params.get('mode') || 'stream';

  const pageErrors = [];
  window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => pageErrors.push('unhandled rejection: ' + e.reason));

  let reported = false;
  function report(value) {
    if (reported) return;
    reported = true;
    value.pageErrors = pageErrors;
    window.__result = value;
  }

  async function rest(method, path, body) {
    const res = await fetch(api + path, {
      method,
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(method + ' ' + path + ' -> ' + res.status + ' ' + JSON.stringify(json));
    return json;
  }

  function transportName(socket) {
    return socket.io.engine ? socket.io.engine.transport.name : null;
  }

  // Resolves once the engine runs over websocket, or after ms with whatever it runs over.
  function settledTransport(socket, ms) {
    return new Promise((resolve) => {
      if (transportName(socket) === 'websocket') return resolve('websocket');
      const t = setTimeout(() => resolve(transportName(socket)), ms);
      socket.io.engine.once('upgrade', () => { clearTimeout(t); resolve(transportName(socket)); });
    });
  }

  // The refused-connection case: report the first connect_error, then whether the client retries.
  function connectOnly() {
    const socket = io(gateway, { auth: { token } });
    const errors = [];
    socket.on('connect', () => report({ ok: false, stage: 'connected although the token is invalid' }));
    socket.on('connect_error', (err) => {
      errors.push({ message: err.message, data: err.data === undefined ? null : err.data });
      if (errors.length === 1) {
        setTimeout(() => report({ ok: true, errors, active: socket.active, connected: socket.connected }), 1000);
      }
    });
  }

  async function stream() {
    const session = await rest('POST', '/chats', { title: 'Browser check' });
    const socket = io(gateway, { auth: { token } });
    const state = {
      texts: {}, deltas: 0, violations: [], events: [], upgrades: [],
      transportAtOpen: null, joinAcks: [], sent: null,
    };

    socket.io.on('open', () => {
      state.transportAtOpen = transportName(socket);
      socket.io.engine.on('upgrade', (t) => state.upgrades.push(t.name));
    });
    socket.on('connect_error', (err) => report({ ok: false, stage: 'connect_error', message: err.message, data: err.data }));
    socket.on('connect', () => {
      // on every connect (re)join, and apply the snapshot inside the ack callback
      socket.emit('join', { sessionId: session.id }, (ack) => {
        state.joinAcks.push({ ok: ack.ok, replies: ack.ok ? ack.replies.length : null, error: ack.error || null });
        if (!ack.ok) return report({ ok: false, stage: 'join', ack });
        for (const r of ack.replies) state.texts[r.messageId] = r.text;
        if (state.sent === null) {
          state.sent = rest('POST', '/chats/' + session.id + '/messages', { content: 'What is in my report?' });
          state.sent.catch((e) => report({ ok: false, stage: 'send', message: String(e) }));
        }
      });
    });

    socket.on('message.created', (m) => state.events.push('message.created:' + m.messageType));
    socket.on('message.processing', (m) => {
      state.events.push('message.processing');
      state.texts[m.id] = '';
    });
    socket.on('message.delta', (d) => {
      state.deltas++;
      if (state.events[state.events.length - 1] !== 'message.delta') state.events.push('message.delta');
      const have = state.texts[d.messageId] ?? '';
      if (d.offset === have.length) state.texts[d.messageId] = have + d.text;
      else state.violations.push({ seq: d.seq, offset: d.offset, have: have.length });
      document.getElementById('reply').textContent = state.texts[d.messageId];
    });
    socket.on('message.failed', (m) => report({ ok: false, stage: 'message.failed', message: m }));
    socket.on('message.completed', async (m) => {
      state.events.push('message.completed');
      const assembled = state.texts[m.id] ?? '';
      state.texts[m.id] = m.content;
      const transportAtCompleted = transportName(socket);
      const sent = await state.sent;
      report({
        ok: true,
        sessionId: session.id,
        replyId: sent.reply.id,
        assembled,
        completed: m,
        deltas: state.deltas,
        violations: state.violations,
        events: state.events,
        joinAcks: state.joinAcks,
        transportAtOpen: state.transportAtOpen,
        transportAtCompleted,
        transportFinal: await settledTransport(socket, 5000),
        upgrades: state.upgrades,
      });
    });
  }

  if (mode === 'connect') {
    connectOnly();
  } else {
    stream().catch((e) => report({ ok: false, stage: 'stream', message: String(e) }));
  }
})();
