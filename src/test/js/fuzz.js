'use strict';
// Socket event fuzzer for SocketFuzzTest: with the real socket.io-client v4, sends generated malformed
// handshakes and `join`/`leave`/unknown events, and checks every answer:
//  - a handshake with a bad token is refused with connect_error {code: UNAUTHENTICATED};
//  - every acknowledged event answers {ok:true,...} or {ok:false, error:{code, message}} with a
//    documented code, within the timeout, without a stack trace;
//  - after the flood, a well-behaved join on a fresh socket still works.
// Prints one line: RESULT {"ok":true,"value":{tried, outcomes, violations}}.
const { io } = require('socket.io-client');

const args = JSON.parse(process.argv[2] || '{}');
const documented = new Set(args.codes);
const outcomes = {};
const violations = [];
let tried = 0;
const count = (k) => { outcomes[k] = (outcomes[k] || 0) + 1; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A small seeded PRNG (mulberry32) so a failure reproduces.
let seed = args.seed >>> 0;
const rnd = () => { seed |= 0; seed = (seed + 0x6D2B79F5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = (a) => a[Math.floor(rnd() * a.length)];

const deep = (n) => { let o = {}; const root = o; for (let i = 0; i < n; i++) { o.a = {}; o = o.a; } return root; };
const values = [
  undefined, null, 0, -1, 1.5, 1e308, NaN, true, false, '', ' ', 'x', '\u0000', '\ud800', '$ne', 'a.b',
  args.own, args.own.toUpperCase(), args.other, args.own + ' ', ' ' + args.own, args.own.slice(0, 23),
  args.own + 'a', 'g'.repeat(24), '0'.repeat(24), 'x'.repeat(70_000), '😀'.repeat(12),
  { $gt: '' }, { $ne: null }, { $where: 'sleep(1000)' }, [args.own], [], {}, deep(200),
  Buffer.from([0xff, 0xfe, 0x00]), '<script>alert(1)</script>', '__proto__',
];
const payloads = () => {
  const v = pick(values);
  return pick([
    v,
    { sessionId: v },
    { sessionId: v, extra: pick(values) },
    { sessionId: args.own, lastSeq: v },
    { sessionId: v, replies: v, __proto__: { admin: true } },
    [v, v],
    { ['$' + 'where']: v },
  ]);
};

function check(label, ack) {
  tried++;
  if (ack === '__timeout__') { count('timeout'); violations.push(`${label} → no ack within 5 s`); return; }
  if (ack === '__disconnected__') { count('disconnected'); return; }
  if (!ack || typeof ack !== 'object') { count('bad ack'); violations.push(`${label} → ack ${JSON.stringify(ack)}`); return; }
  const text = JSON.stringify(ack);
  if (/\bat [\w$.]+\(|Exception\b|com\.aichat\./.test(text)) violations.push(`${label} → stack trace ${text.slice(0, 200)}`);
  if (ack.ok === true) { count('ok'); return; }
  const code = ack.error && ack.error.code;
  count(`error ${code}`);
  if (!documented.has(code)) violations.push(`${label} → undocumented code ${code}: ${text.slice(0, 200)}`);
  if (typeof ack.error.message !== 'string') violations.push(`${label} → error without message`);
}

function connect(auth, opts = {}) {
  const socket = io(args.url, { reconnection: false, forceNew: true, timeout: 5000, auth, ...opts });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ socket }));
    socket.once('connect_error', (err) => { socket.close(); resolve({ error: err }); });
  });
}

function emit(socket, event, payload) {
  return new Promise((resolve) => {
    if (!socket.connected) return resolve('__disconnected__');
    const t = setTimeout(() => resolve('__timeout__'), 5000);
    const onDisconnect = () => { clearTimeout(t); resolve('__disconnected__'); };
    socket.once('disconnect', onDisconnect);
    const args2 = Array.isArray(payload) && rnd() < 0.3 ? payload : [payload];
    socket.emit(event, ...args2, (ack) => { clearTimeout(t); socket.off('disconnect', onDisconnect); resolve(ack); });
  });
}

async function handshakes() {
  const tokens = [undefined, null, 1, '', 'x', 'a.b.c', '...', args.token + 'x', args.token.replace(/\./g, '!'),
    { $gt: '' }, ['t'], 'x'.repeat(20_000), 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', args.token + '\n'];
  for (const token of tokens) {
    tried++;
    const r = await connect({ token });
    if (r.socket) { count('handshake accepted'); violations.push(`handshake with token ${String(token).slice(0, 40)} accepted`); r.socket.close(); continue; }
    const code = r.error.data && r.error.data.code;
    count(`handshake ${code || r.error.message}`);
    if (code && !documented.has(code)) violations.push(`handshake → undocumented code ${code}`);
    if (!code && !/timeout|websocket error|xhr poll error/.test(r.error.message)) violations.push(`handshake → ${r.error.message}`);
  }
}

async function main() {
  await handshakes();
  let { socket } = await connect({ token: args.token });
  const events = ['join', 'leave', 'join', 'leave', 'nope', 'message.created', 'auth.expired', '__proto__'];
  for (let i = 0; i < args.rounds; i++) {
    if (!socket.connected) { count('reconnect'); ({ socket } = await connect({ token: args.token })); if (!socket) break; }
    const event = pick(events);
    const payload = payloads();
    const label = `${event} ${JSON.stringify(payload === undefined ? 'undefined' : payload).slice(0, 100)}`;
    if (event === 'join' || event === 'leave') {
      check(label, await emit(socket, event, payload));
    } else {
      // Unknown or server-side event names: no ack is owed, the socket must stay usable.
      tried++;
      socket.emit(event, payload);
      count('unknown event sent');
    }
    if (i % 25 === 24) await sleep(Number(args.pauseMs || 0));
  }
  socket.close();
  // The gateway still serves a well-behaved client.
  const fresh = await connect({ token: args.token });
  if (!fresh.socket) { violations.push(`final connect failed: ${fresh.error.message}`); }
  else {
    const ack = await emit(fresh.socket, 'join', { sessionId: args.own });
    if (!ack || ack.ok !== true) violations.push(`final join failed: ${JSON.stringify(ack).slice(0, 200)}`);
    fresh.socket.close();
  }
  process.stdout.write(`RESULT ${JSON.stringify({ ok: true, value: { tried, outcomes, violations } })}\n`);
  process.exit(0);
}

main().catch((e) => { process.stdout.write(`RESULT ${JSON.stringify({ ok: false, error: String(e && e.stack || e) })}\n`); process.exit(1); });
