// The REST API with the token this tab logged in with. The token lives in sessionStorage only:
// never in the URL (corrald's printed #token= fragment is read once and removed) nor in a cookie.

const KEY = 'corral.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const auth = {
  get token() { return sessionStorage.getItem(KEY) || ''; },
  set token(t) { t ? sessionStorage.setItem(KEY, t) : sessionStorage.removeItem(KEY); },
  /** Takes `#token=...` from the address bar into this tab's storage and out of the URL. */
  adoptFragment() {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!m) return;
    this.token = decodeURIComponent(m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  },
  headers(extra = {}) {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  },
  /** A query parameter for the URLs a browser opens without headers (WebSocket, EventSource). */
  query() { return this.token ? `token=${encodeURIComponent(this.token)}` : ''; },
};

/** Listeners for a 401 anywhere: the page returns to its login form. */
export const onUnauthenticated = new EventTarget();

async function errorOf(res) {
  let code = 'http_' + res.status, message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) ({ code, message } = body.error);
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(res.status, code, message);
}

/** Calls the API; resolves with the parsed JSON, rejects with an ApiError. */
export async function api(path, { method = 'GET', body, signal, raw = false, type } = {}) {
  const headers = auth.headers();
  let payload = body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== 'string') {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (type) {
    headers['Content-Type'] = type;
  }
  const res = await fetch(path, { method, headers, body: payload, signal, cache: 'no-store' });
  if (!res.ok) {
    const err = await errorOf(res);
    if (res.status === 401) onUnauthenticated.dispatchEvent(new CustomEvent('401', { detail: err }));
    throw err;
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}
