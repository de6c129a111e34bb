// The reference web client: sign-in, a session list (create, rename, delete) and one open chat whose
// replies stream over Socket.IO. Plain ES modules, no build step. See docs/events.md for the contract.
import { Api, ApiFailure, devSignIn } from './api.js';
import { ChatSocket } from './chat-socket.js';
import { describeAiError, describeApiError } from './errors.js';
import { renderMessage as renderMessageHtml } from './markdown.js';

const TOKEN_KEY = 'chat-service.token';
const $ = (id) => document.getElementById(id);

const state = {
  config: null,
  api: null,
  socket: null,
  sessions: new Map(), // id → session JSON
  currentId: null,
  messages: new Map(), // id → message JSON of the open session
  texts: new Map(), // reply id → text assembled from the snapshot and deltas (the apply rule)
  dirty: new Set(),
  flushTimer: null,
};

// What the page did, for the browser test and for anyone poking at it in the console.
const debug = {
  connectionStates: [],
  resumes: [], // {messageId, length}: replies taken from a join snapshot
  completions: [], // {id, assembled, content}: the text built from deltas vs the stored content
  violations: [], // deltas off the offset rule
  errors: [],
};
window.__chat = { state, debug };

const ACTIVE = new Set(['pending', 'processing']);
const isActive = (m) => m.messageType === 'ai_report' && ACTIVE.has(m.status);
const isFinal = (m) => !ACTIVE.has(m.status);

// ---------------------------------------------------------------- sign-in

async function boot() {
  state.config = await fetch('/app/config.json').then((r) => r.json());
  $('dev-signin').hidden = !state.config.devSignIn;
  $('dev-signin-hint').hidden = !state.config.devSignIn;
  $('dev-signin').addEventListener('click', onDevSignIn);
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token-input').value.trim();
    if (token) {
      start(token);
    }
  });
  $('sign-out').addEventListener('click', () => signOut(''));
  $('new-chat').addEventListener('click', () => createSession().catch(showError));
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    send().catch(showError);
  });
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send().catch(showError);
    }
  });
  $('retry-connect').addEventListener('click', () => state.socket?.reconnect());
  window.addEventListener('hashchange', () => openSession(sessionFromHash()));
  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) {
    start(saved);
  } else {
    showSignIn('');
  }
}

async function onDevSignIn() {
  try {
    const { token } = await devSignIn();
    start(token);
  } catch (e) {
    $('signin-error').textContent = e.message;
  }
}

function showSignIn(message) {
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
}

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  state.socket?.close();
  state.socket = null;
  state.api = null;
  state.sessions.clear();
  state.messages.clear();
  state.texts.clear();
  state.currentId = null;
  history.replaceState(null, '', location.pathname);
  renderSessions();
  renderMessages();
  showSignIn(message);
}

function userIdOf(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return payload.sub ?? '';
  } catch (e) {
    return '';
  }
}

async function start(token) {
  state.api = new Api(token);
  try {
    await loadSessions();
  } catch (e) {
    if (e instanceof ApiFailure && e.code === 'UNAUTHENTICATED') {
      signOut(`That token was refused: ${e.message}.`);
      return;
    }
    showSignIn(describeApiError(e));
    return;
  }
  localStorage.setItem(TOKEN_KEY, token);
  $('signin').hidden = true;
  $('app').hidden = false;
  $('user').textContent = userIdOf(token) ? `user ${userIdOf(token)}` : '';
  state.socket = new ChatSocket(gatewayUrl(), token, {
    connection: setConnection,
    snapshot: applySnapshot,
    event: onEvent,
    joinFailed: onJoinFailed,
    unauthenticated: (reason) => signOut(`Your sign-in is no longer valid (${reason}). Please sign in again.`),
  });
  openSession(sessionFromHash() ?? null);
}

function gatewayUrl() {
  const c = state.config;
  return c.gatewayUrl || `${location.protocol}//${location.hostname}:${c.gatewayPort}`;
}

function setConnection(connection, detail) {
  debug.connectionStates.push(connection);
  const el = $('connection');
  el.dataset.state = connection;
  el.textContent = { connected: 'Connected', reconnecting: 'Reconnecting…', offline: 'Offline' }[connection];
  el.title = detail ?? '';
  $('retry-connect').hidden = connection !== 'offline';
}

// ---------------------------------------------------------------- sessions

async function loadSessions() {
  state.sessions.clear();
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const res = await state.api.listSessions(cursor);
    for (const s of res.items) {
      state.sessions.set(s.id, s);
    }
    cursor = res.nextCursor;
    if (!cursor) {
      break;
    }
  }
  renderSessions();
}

function sessionFromHash() {
  const m = /^#\/chats\/([0-9a-f]{24})$/.exec(location.hash);
  return m ? m[1] : null;
}

async function createSession(title) {
  const s = await state.api.createSession(title);
  state.sessions.set(s.id, s);
  renderSessions();
  location.hash = `#/chats/${s.id}`; // → openSession
  openSession(s.id);
  return s;
}

function openSession(id) {
  if (id && !state.sessions.has(id)) {
    id = null;
  }
  if (id === state.currentId) {
    return;
  }
  state.currentId = id;
  state.messages.clear();
  state.texts.clear();
  hideError();
  if (!id && location.hash) {
    history.replaceState(null, '', location.pathname);
  }
  renderSessions();
  renderMessages();
  if (id) {
    state.socket?.open(id); // → applySnapshot, then the stored history
  }
  $('input').focus();
}

function startRename(id, li) {
  const s = state.sessions.get(id);
  const input = document.createElement('input');
  input.className = 'rename-input';
  input.value = s.title;
  input.maxLength = 200;
  li.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async (save) => {
    if (done) {
      return;
    }
    done = true;
    const title = input.value.trim();
    if (save && title && title !== s.title) {
      try {
        state.sessions.set(id, await state.api.renameSession(id, title));
      } catch (e) {
        showError(e);
      }
    }
    renderSessions();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      finish(true);
    } else if (e.key === 'Escape') {
      finish(false);
    }
  });
  input.addEventListener('blur', () => finish(true));
}

function confirmDelete(id, li) {
  const ask = document.createElement('span');
  ask.className = 'confirm';
  ask.textContent = 'Delete this chat?';
  const yes = button('Delete', 'confirm-delete danger', async () => {
    try {
      await state.api.deleteSession(id);
      removeSession(id);
    } catch (e) {
      showError(e);
      renderSessions();
    }
  });
  const no = button('Cancel', 'cancel-delete', () => renderSessions());
  li.replaceChildren(ask, yes, no);
  yes.focus();
}

function removeSession(id) {
  state.sessions.delete(id);
  if (state.currentId === id) {
    openSession(null);
  }
  renderSessions();
}

function button(label, className, onClick, title) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  if (title) {
    b.title = title;
    b.setAttribute('aria-label', title);
  }
  b.addEventListener('click', onClick);
  return b;
}

function renderSessions() {
  const list = $('sessions');
  const sorted = [...state.sessions.values()].sort((a, b) =>
    (b.lastMessageAt ?? b.updatedAt).localeCompare(a.lastMessageAt ?? a.updatedAt));
  list.replaceChildren(...sorted.map((s) => {
    const li = document.createElement('li');
    li.dataset.id = s.id;
    li.classList.toggle('current', s.id === state.currentId);
    const open = button(s.title, 'open', () => {
      location.hash = `#/chats/${s.id}`;
    });
    li.append(
      open,
      button('✎', 'rename', () => startRename(s.id, li), `Rename “${s.title}”`),
      button('✕', 'delete', () => confirmDelete(s.id, li), `Delete “${s.title}”`));
    return li;
  }));
  $('empty-sessions').hidden = sorted.length > 0;
  const current = state.sessions.get(state.currentId);
  $('title').textContent = current ? current.title : 'No chat open';
  $('composer').dataset.session = current ? current.id : '';
}

// ---------------------------------------------------------------- messages

/** The join ack's snapshot: every reply still pending or generating, with its text so far. */
function applySnapshot(sessionId, replies) {
  if (sessionId !== state.currentId) {
    return;
  }
  const inSnapshot = new Set();
  for (const r of replies) {
    inSnapshot.add(r.messageId);
    state.texts.set(r.messageId, r.text);
    upsert({ ...r.message, status: r.status, content: r.text });
    debug.resumes.push({ messageId: r.messageId, length: r.text.length });
  }
  // replies this page still shows as generating that are no longer in the snapshot ended meanwhile
  for (const m of state.messages.values()) {
    if (isActive(m) && !inSnapshot.has(m.id)) {
      state.texts.delete(m.id);
    }
  }
  loadHistory(sessionId).catch(showError);
}

/** The stored messages, merged so that live state is never replaced by an older stored one. */
async function loadHistory(sessionId) {
  let after = null;
  for (let page = 0; page < 50; page++) {
    const res = await state.api.listMessages(sessionId, after);
    if (sessionId !== state.currentId) {
      return;
    }
    res.items.forEach(mergeStored);
    after = res.nextCursor;
    if (!after) {
      break;
    }
  }
}

function mergeStored(m) {
  const local = state.messages.get(m.id);
  if (local && (isFinal(local) || state.texts.has(m.id)) && !isFinal(m)) {
    return; // live text (snapshot + deltas) or a final event is newer than this read
  }
  if (isFinal(m)) {
    state.texts.delete(m.id);
  }
  upsert(m);
}

function upsert(m) {
  const local = state.messages.get(m.id);
  state.messages.set(m.id, local?.queue && ACTIVE.has(m.status) ? { ...m, queue: local.queue } : m);
  markDirty(m.id);
}

function onEvent(name, p) {
  if (name.startsWith('session.')) {
    onSessionEvent(name, p);
    return;
  }
  if (p.sessionId !== state.currentId) {
    return;
  }
  switch (name) {
    case 'message.created':
      if (isActive(p)) {
        state.texts.set(p.id, p.content ?? '');
      }
      upsert(p);
      break;
    case 'message.queued': {
      const m = state.messages.get(p.messageId);
      if (m) {
        m.queue = p;
        markDirty(m.id);
      }
      break;
    }
    case 'message.processing': {
      // a (re)started generation starts from the empty string; a continue from the text it continues
      const start = (p.content ?? '').slice(0, p.continueOffset ?? 0);
      state.texts.set(p.id, start);
      upsert({ ...p, content: start, queue: undefined });
      break;
    }
    case 'message.updated':
      // feedback, an edit, or a reply back to pending for a new version or a continue (docs/versions.md)
      if (isActive(p)) {
        state.texts.set(p.id, p.content ?? '');
      }
      upsert(p);
      break;
    case 'message.delta': {
      const have = state.texts.get(p.messageId) ?? '';
      if (p.offset !== have.length) {
        debug.violations.push({ messageId: p.messageId, offset: p.offset, have: have.length, seq: p.seq });
        break;
      }
      const text = have + p.text;
      state.texts.set(p.messageId, text);
      const m = state.messages.get(p.messageId);
      if (m) {
        m.content = text;
        markDirty(m.id);
      }
      break;
    }
    case 'message.completed':
      debug.completions.push({ id: p.id, assembled: state.texts.get(p.id) ?? null, content: p.content });
      state.texts.delete(p.id);
      upsert(p);
      break;
    case 'message.failed':
    case 'message.cancelled':
      state.texts.delete(p.id);
      upsert(p);
      break;
    default:
  }
}

function onSessionEvent(name, p) {
  if (name === 'session.deleted') {
    removeSession(p.id);
    return;
  }
  state.sessions.set(p.id, p);
  renderSessions();
}

function onJoinFailed(sessionId, error) {
  if (error.code === 'NOT_FOUND') {
    removeSession(sessionId);
    showMessage('This chat no longer exists.');
  } else {
    showMessage(`Could not open this chat (${error.message}). Retrying…`);
    setTimeout(() => state.socket?.join(), 2000);
  }
}

async function send() {
  const input = $('input');
  const content = input.value.trim();
  if (!content) {
    return;
  }
  const sessionId = state.currentId ?? (await createSession()).id;
  hideError();
  $('send').disabled = true;
  try {
    const res = await state.api.send(sessionId, content, crypto.randomUUID());
    input.value = '';
    if (sessionId === state.currentId) {
      mergeStored(res.userMessage);
      mergeStored(res.reply);
      if (res.queue) {
        onEvent('message.queued', res.queue);
      }
    }
  } finally {
    $('send').disabled = false;
    input.focus();
  }
}

async function stop(m) {
  try {
    await state.api.cancel(m.sessionId, m.id);
  } catch (e) {
    if (e.code !== 'CONFLICT') { // 409: it finished meanwhile; its final event is on the way
      showError(e);
    }
  }
}

// ---------------------------------------------------------------- rendering

function markDirty(id) {
  state.dirty.add(id);
  if (!state.flushTimer) {
    state.flushTimer = setTimeout(flush, 16); // coalesce bursts of deltas into one paint
  }
}

function flush() {
  state.flushTimer = null;
  const ids = [...state.dirty];
  state.dirty.clear();
  const list = $('messages');
  let added = false;
  for (const id of ids) {
    const m = state.messages.get(id);
    let el = list.querySelector(`[data-id="${id}"]`);
    if (!m) {
      el?.remove();
      continue;
    }
    if (!el) {
      el = document.createElement('article');
      el.dataset.id = id;
      list.append(el);
      added = true;
    }
    try {
      renderMessage(el, m);
    } catch (e) {
      // the error boundary of one message: it shows as plain text, the rest of the batch still renders
      debug.errors.push({ code: 'RENDER_FAILED', message: `${id}: ${e.message}` });
      el.replaceChildren();
      el.className = 'msg render-failed';
      el.textContent = m.content ?? '';
    }
  }
  if (added) {
    const sorted = [...list.children].sort((a, b) => order(a.dataset.id, b.dataset.id));
    list.replaceChildren(...sorted);
  }
  $('empty-chat').hidden = state.messages.size > 0 || !state.currentId;
  list.scrollTop = list.scrollHeight;
}

function order(a, b) {
  const x = state.messages.get(a);
  const y = state.messages.get(b);
  return x.createdAt === y.createdAt ? a.localeCompare(b) : x.createdAt.localeCompare(y.createdAt);
}

function renderMessages() {
  $('messages').replaceChildren();
  state.dirty = new Set(state.messages.keys());
  flush();
}

function renderMessage(el, m) {
  const mine = m.messageType === 'user';
  el.className = `msg ${mine ? 'user' : 'assistant'} ${m.messageType} status-${m.status}`;
  // the nodes stay while a reply streams: only their content changes (a Stop button that is replaced
  // at every delta could not be clicked)
  if (!el.firstChild) {
    const body = document.createElement('div');
    const meta = document.createElement('div');
    meta.className = 'meta';
    const stopButton = button('■ Stop', 'stop', () => stop(state.messages.get(el.dataset.id)), 'Stop this reply');
    el.append(body, meta, stopButton);
  }
  const [body, meta, stopButton] = el.children;
  if (m.messageType === 'ai_error') {
    body.className = 'body error-text';
    body.textContent = describeAiError(m.error);
    meta.textContent = m.error?.code ? `error ${m.error.code}` : 'error';
  } else {
    body.className = 'body';
    // safe: see markdown.js; never throws (a message that cannot be formatted shows as plain text)
    body.innerHTML = renderMessageHtml(m.content, { maxQuoteDepth: state.config?.markdownMaxQuoteDepth });
    meta.textContent = statusLine(m);
  }
  stopButton.hidden = !isActive(m);
}

function statusLine(m) {
  if (m.messageType === 'user') {
    return 'You';
  }
  switch (m.status) {
    case 'pending':
      return m.queue ? `Waiting for a free assistant (position ${m.queue.position})…` : 'Waiting…';
    case 'processing':
      return 'Writing…';
    case 'cancelled':
      return 'Stopped';
    case 'completed':
      return m.model ? `Assistant · ${m.model}` : 'Assistant';
    default:
      return m.status;
  }
}

function showError(e) {
  debug.errors.push({ code: e.code ?? null, message: e.message });
  if (e instanceof ApiFailure && e.code === 'UNAUTHENTICATED') {
    signOut(describeApiError(e));
    return;
  }
  showMessage(e instanceof ApiFailure ? describeApiError(e) : `Something went wrong: ${e.message}`);
}

function showMessage(text) {
  const el = $('error');
  el.textContent = text;
  el.hidden = false;
}

function hideError() {
  $('error').hidden = true;
}

boot().catch((e) => showSignIn(`The page could not start: ${e.message}`));
