'use strict';
// Opens a chat session over REST, connects socket.io-client v4 to the gateway, joins the session,
// sends a message over REST and prints the reply as it streams in.
//
//   TOKEN=$(java -jar target/chat-service.jar dev-token 64b7f0c2a1b2c3d4e5f60718)
//   NODE_PATH=src/test/js/node_modules TOKEN=$TOKEN node examples/stream.js "What is in my report?"
//
// Env: TOKEN (required), API (default http://localhost:8080), GATEWAY (default http://localhost:8081).
const { io } = require('socket.io-client');

const API = process.env.API || 'http://localhost:8080';
const GATEWAY = process.env.GATEWAY || 'http://localhost:8081';
const TOKEN = process.env.TOKEN;
const question = process.argv[2] || 'Summarize what we talked about.';
if (!TOKEN) { console.error('set TOKEN (see the comment at the top)'); process.exit(2); }

async function rest(method, path, body) {
  const res = await fetch(API + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

(async () => {
  const session = await rest('POST', '/chats', { title: 'stream.js demo' });
  console.error(`session ${session.id}`);

  // default transports (long-polling, then websocket), exactly like a browser frontend
  const socket = io(GATEWAY, { auth: { token: TOKEN } });
  socket.on('connect_error', (err) => { console.error('connect_error:', err.message, err.data || ''); process.exit(1); });
  await new Promise((resolve) => socket.once('connect', resolve));

  const texts = {}; // messageId -> text assembled from the snapshot and the deltas
  // apply the snapshot inside the ack callback: it runs before any later packet is handled
  const ack = await new Promise((resolve) => socket.emit('join', { sessionId: session.id }, (a) => {
    if (a.ok) for (const r of a.replies) texts[r.messageId] = r.text; // replies already generating
    resolve(a);
  }));
  if (!ack.ok) throw new Error('join refused: ' + JSON.stringify(ack.error));

  let replyId = null;
  // a new attempt starts from "", a continue (docs/versions.md) from the text it continues
  socket.on('message.processing', (m) => { texts[m.id] = (m.content || '').slice(0, m.continueOffset ?? 0); });
  socket.on('message.delta', (d) => {
    const have = texts[d.messageId] || '';
    if (d.offset !== have.length) return; // the rule: apply only at offset == length
    texts[d.messageId] = have + d.text;
    if (d.messageId === replyId) process.stdout.write(d.text);
  });
  socket.on('message.completed', (m) => {
    if (m.id !== replyId) return;
    console.log(`\n\n[completed: ${m.content.length} chars, assembled text ${texts[m.id] === m.content ? 'matches' : 'DIFFERS from'} the stored reply]`);
    socket.disconnect();
  });
  socket.on('message.failed', (m) => { console.error('\n[failed]', m.error); socket.disconnect(); });

  const sent = await rest('POST', `/chats/${session.id}/messages`, { content: question });
  replyId = sent.reply.id;
  if (texts[replyId]) process.stdout.write(texts[replyId]);
})().catch((e) => { console.error(e.message); process.exit(1); });
