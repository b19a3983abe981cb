// One live connection to corrald for the whole page: job events for the table and the queue, and
// the output of every open job view. A WebSocket (/api/v1/stream), or server-sent events
// (/api/v1/events) when a WebSocket cannot connect. When the connection is lost it reconnects with
// backoff and every view resubscribes from its own cursor (the byte after the last one it shows),
// so nothing is missed and nothing comes twice; the table reloads, since events may have passed.

import { auth } from './api.js';

const EVENT_NAMES = ['output', 'lost', 'eof', 'event', 'subscribed', 'error', 'events_lost',
                     'queued', 'started', 'progress', 'finished', 'state', 'service'];

export class Live extends EventTarget {
  /** `services`: follow services' state changes too (a role that sees services; others get 403). */
  constructor({ services = false } = {}) {
    super();
    this.services = services;
    this.followers = new Map(); // job id -> { cursor(): number, onMessage(msg) }
    this.mode = 'websocket';
    this.state = 'connecting';
    this.failures = 0;       // consecutive attempts that never opened
    this.everOpened = false;
    this.ws = null;
    this.sources = new Map(); // SSE: 'all' or job id -> EventSource
    this.timer = null;
  }

  start() { this.connect(); }

  stop() {
    clearTimeout(this.timer);
    this.closeAll();
    this.state = 'stopped';
  }

  /** Follows a job's output from `follower.cursor()`; `follower.onMessage` gets its messages. */
  follow(id, follower) {
    this.followers.set(id, follower);
    if (this.state !== 'open') return;
    if (this.mode === 'websocket') this.send({ type: 'subscribe', job: id, from: follower.cursor() });
    else this.openSource(id);
  }

  unfollow(id) {
    this.followers.delete(id);
    if (this.state !== 'open') return;
    if (this.mode === 'websocket') this.send({ type: 'unsubscribe', job: id });
    else { this.sources.get(id)?.close(); this.sources.delete(id); }
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, mode: this.mode, ...detail } }));
  }

  url(path) {
    const proto = path.startsWith('/api/v1/stream') ? (location.protocol === 'https:' ? 'wss:' : 'ws:') : location.protocol;
    const q = auth.query();
    return `${proto}//${location.host}${path}${q ? (path.includes('?') ? '&' : '?') + q : ''}`;
  }

  connect() {
    clearTimeout(this.timer);
    this.closeAll();
    if (this.mode === 'websocket') this.connectWebSocket();
    else this.connectEvents();
  }

  connectWebSocket() {
    let opened = false;
    const ws = new WebSocket(this.url('/api/v1/stream'));
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
      this.opened();
      this.send({ type: 'subscribe', all: true, output: false });
      if (this.services) this.send({ type: 'subscribe', services: true });
      for (const [id, f] of this.followers) this.send({ type: 'subscribe', job: id, from: f.cursor() });
    };
    ws.onmessage = (e) => this.deliver(JSON.parse(e.data));
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lost(opened, e.reason || (e.code === 1006 ? 'the connection dropped' : `closed (${e.code})`));
    };
  }

  connectEvents() {
    // Job events for everything; a source per followed job carries its output from its cursor.
    this.openSource('all');
    for (const id of this.followers.keys()) this.openSource(id);
  }

  openSource(key) {
    const path = key === 'all' ? `/api/v1/events?all=true&output=false${this.services ? '&services=true' : ''}`
                               : `/api/v1/events?job=${key}&from=${this.followers.get(key).cursor()}&output=true`;
    const es = new EventSource(this.url(path));
    this.sources.set(key, es);
    let opened = false;
    es.onopen = () => { opened = true; if (this.state !== 'open') this.opened(); };
    const onData = (e) => { if (this.sources.get(key) === es) this.deliver(JSON.parse(e.data)); };
    for (const name of EVENT_NAMES) es.addEventListener(name, onData);
    es.onmessage = onData;
    es.onerror = () => {
      // EventSource would retry on its own, from the URL's old `from`; reconnecting here resumes
      // every job at its current cursor instead.
      if (this.sources.get(key) !== es) return;
      this.closeAll();
      this.lost(opened, 'the event stream dropped');
    };
  }

  closeAll() {
    if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; ws.close(); }
    for (const es of this.sources.values()) es.close();
    this.sources.clear();
  }

  opened() {
    const again = this.everOpened;
    this.everOpened = true;
    this.failures = 0;
    this.setState('open');
    if (again) this.dispatchEvent(new Event('reconnected'));
  }

  async lost(opened, reason) {
    if (this.state === 'stopped') return;
    this.failures = opened ? 1 : this.failures + 1;
    // A WebSocket that never opens while corrald answers HTTP: a proxy in the way. Use SSE.
    if (!opened && this.mode === 'websocket' && this.failures >= 2) {
      try {
        const res = await fetch('/healthz', { cache: 'no-store' });
        if (res.ok) {
          this.mode = 'sse';
          this.failures = 0;
          this.setState('connecting', { reason: 'WebSocket unavailable: using server-sent events' });
          this.connect();
          return;
        }
      } catch { /* corrald is down: back off below */ }
    }
    const delay = Math.min(10000, 500 * 2 ** Math.min(this.failures - 1, 5)) * (0.8 + Math.random() * 0.4);
    this.setState('lost', { reason, retryIn: delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Tries again now (the banner's button). */
  retry() { if (this.state === 'lost') this.connect(); }

  deliver(msg) {
    switch (msg.type) {
      case 'output': case 'lost': case 'eof':
        this.followers.get(msg.job)?.onMessage(msg);
        break;
      case 'event':
        this.dispatchEvent(new CustomEvent('job', { detail: msg }));
        this.followers.get(msg.job?.id)?.onMessage(msg);
        break;
      case 'service':
        this.dispatchEvent(new CustomEvent('service', { detail: msg }));
        break;
      case 'events_lost':
        this.dispatchEvent(new Event('reconnected')); // the table reloads: some events were dropped
        break;
      case 'error':
        this.dispatchEvent(new CustomEvent('servererror', { detail: msg }));
        break;
      default:
        break;
    }
  }
}
