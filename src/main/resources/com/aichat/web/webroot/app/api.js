// The REST API (see /docs): every call carries the bearer token; errors become ApiFailure with the
// service's stable error code ({"error":{"code","message","details"}}) and its Retry-After.

export class ApiFailure extends Error {
  constructor(status, code, message, details, retryAfterSeconds) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details ?? {};
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    const init = { method, headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiFailure(0, 'NETWORK', 'the service cannot be reached', {}, null);
    }
    if (res.status === 204) {
      return null;
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const err = json?.error ?? {};
      const retryAfter = Number(res.headers.get('Retry-After'));
      throw new ApiFailure(res.status, err.code ?? `HTTP_${res.status}`, err.message ?? res.statusText,
        err.details, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
    }
    return json;
  }

  listSessions(cursor) {
    return this.request('GET', `/chats?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  }

  createSession(title) {
    return this.request('POST', '/chats', title ? { title } : {});
  }

  renameSession(id, title) {
    return this.request('PATCH', `/chats/${id}`, { title });
  }

  deleteSession(id) {
    return this.request('DELETE', `/chats/${id}`);
  }

  listMessages(sessionId, after) {
    return this.request('GET', `/chats/${sessionId}/messages?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
  }

  getMessage(sessionId, messageId) {
    return this.request('GET', `/chats/${sessionId}/messages/${messageId}`);
  }

  send(sessionId, content, clientMessageId) {
    return this.request('POST', `/chats/${sessionId}/messages`, { content, clientMessageId });
  }

  cancel(sessionId, messageId) {
    return this.request('POST', `/chats/${sessionId}/messages/${messageId}/cancel`);
  }
}

/** The one-click sign-in of the embedded default: a token for a new user (404 elsewhere). */
export async function devSignIn() {
  const res = await fetch('/dev/token', { method: 'POST' });
  if (!res.ok) {
    throw new ApiFailure(res.status, `HTTP_${res.status}`, 'dev sign-in is not available on this server', {}, null);
  }
  return res.json();
}
