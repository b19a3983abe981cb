// The page: logs in (a token from corrald's #token= link or the login form), then wires the run
// panel, the jobs table, the queue and the open job views to one live connection.

import { api, auth, onUnauthenticated } from './api.js';
import { el } from './format.js';
import { Live } from './live.js';
import { JobTable } from './table.js';
import { QueuePanel } from './queue.js';
import { ServicesPanel } from './services.js';
import { RunPanel } from './run.js';
import { JobView, prepareTerminal } from './view.js';

const VIEWS_KEY = 'corral.views';
const $ = (sel) => document.querySelector(sel);

function toast(text, error = false) {
  let box = $('#toasts');
  if (!box) { box = el('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' }); document.body.append(box); }
  const t = el('div', { class: `toast${error ? ' error' : ''}`, text });
  box.append(t);
  setTimeout(() => t.remove(), error ? 8000 : 4000);
}

function showLogin(message) {
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  const form = $('#login');
  form.hidden = false;
  const p = form.querySelector('.form-error');
  p.textContent = message || '';
  p.hidden = !message;
  form.querySelector('#token').focus();
}

class App {
  constructor(me) {
    this.me = me;
    this.tasks = new Map();
    this.views = new Map();
    this.active = null;
    this.live = new Live({ services: Boolean(me.role.see_all) });
    const ctx = {
      me, tasks: this.tasks, toast,
      mayRunTask: (name) => me.role.tasks.includes('*') || me.role.tasks.includes(name),
      onOpen: (id) => this.open(id),
      onRerun: (spec) => this.run.submit(spec),
      onSubmitted: (job) => { this.open(job.id, job); this.changedJob(job); },
    };
    this.ctx = ctx;
    this.table = new JobTable($('#jobs'), { onOpen: (id) => this.open(id), toast });
    this.queue = new QueuePanel($('#queue'), $('#health'), { me, toast });
    this.services = new ServicesPanel($('.services'), { me, toast, onOpen: (id) => this.open(id) });
    this.run = new RunPanel($('.run'), ctx);
    // Job events touch the table once a frame, however many come: a burst costs one layout.
    this.changed = new Map();
    this.live.addEventListener('job', (e) => {
      this.changedJob(e.detail.job);
      this.queue.poke();
      if (e.detail.job.labels && e.detail.job.labels.service) this.services.poke();
    });
    this.live.addEventListener('service', () => this.services.poke());
    this.live.addEventListener('state', (e) => this.banner(e.detail));
    this.live.addEventListener('reconnected', () => this.resync());
    this.live.addEventListener('servererror', (e) => toast(e.detail.message, true));
    this.tick = setInterval(() => { this.table.tick(); for (const v of this.views.values()) v.tick(); }, 1000);
  }

  changedJob(job) {
    if (this.changed.size === 0) requestAnimationFrame(() => this.applyChanges());
    this.changed.set(job.id, job);
  }

  /** Applies queued job events to the table: a bounded number a frame, so a burst never blocks. */
  applyChanges() {
    let budget = 60; // rows a frame: a burst of a thousand jobs takes a few frames, none of them long
    for (const [id, job] of this.changed) {
      if (budget-- === 0) break;
      this.table.update(job);
      this.changed.delete(id);
    }
    if (this.changed.size) requestAnimationFrame(() => this.applyChanges());
  }

  async start(firstJobs) {
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#who').textContent = `${this.me.user} (${this.me.role.name})`;
    $('#logout').hidden = !auth.token;
    this.live.start();
    await Promise.all([this.table.load(false, firstJobs), this.queue.refresh(), this.services.refresh()]);
    const saved = JSON.parse(sessionStorage.getItem(VIEWS_KEY) || '{"open": [], "active": null}');
    for (const id of saved.open) await this.open(id, null, false);
    if (saved.active && this.views.has(saved.active)) this.activate(saved.active);
    document.body.dataset.ready = 'true';
    prepareTerminal();
    performance.mark('corral-ready'); // bench/webui.mjs: the first view is usable
  }

  stop() {
    clearInterval(this.tick);
    this.services.stop();
    this.live.stop();
    for (const v of this.views.values()) v.dispose();
    this.views.clear();
    $('#view-tabs').replaceChildren();
  }

  banner({ state, reason, retryIn, mode }) {
    const b = $('#banner');
    if (state === 'open') {
      b.hidden = true;
      document.body.dataset.live = mode;
      return;
    }
    document.body.dataset.live = 'down';
    if (state === 'lost') {
      b.replaceChildren(`Connection to corrald lost (${reason}). Reconnecting in ${Math.ceil(retryIn / 1000)} s… `,
        el('button', { type: 'button', onclick: () => this.live.retry() }, 'Retry now'));
      b.hidden = false;
    } else if (reason) {
      b.replaceChildren(reason);
      b.hidden = false;
    }
  }

  /** After a reconnect: the table and the views' job records may have missed events. */
  async resync() {
    this.table.refresh();
    this.queue.refresh();
    this.services.refresh();
    for (const v of this.views.values()) {
      try { v.update(await api(`/api/v1/jobs/${v.id}`)); } catch { /* it may be gone */ }
    }
  }

  save() {
    sessionStorage.setItem(VIEWS_KEY, JSON.stringify({ open: [...this.views.keys()], active: this.active }));
  }

  async open(id, job = null, activate = true) {
    if (!this.views.has(id)) {
      try {
        job = job || this.table.job(id) || await api(`/api/v1/jobs/${id}`);
      } catch (e) {
        toast(`Job ${id}: ${e.message}`, true);
        return;
      }
      const view = new JobView(job, this.ctx);
      this.live.follow(id, view); // first: the output comes while the terminal is being made
      view.build();
      view.attachTerminal();
      this.views.set(id, view);
      const tab = el('div', { class: 'view-tab', 'data-job': String(id) },
        el('button', { type: 'button', id: `tab-${id}`, 'aria-controls': `view-${id}`, 'aria-pressed': 'false',
          'aria-label': `Show job ${id}`, onclick: () => this.activate(id) }, `#${id}`),
        el('button', { type: 'button', class: 'close', 'aria-label': `Close job ${id}`, onclick: () => this.close(id) }, '×'));
      $('#view-tabs').append(tab);
      view.element.hidden = true;
      $('#view-panels').append(view.element);
      view.loadSteps();
      view.loadChain();
    }
    if (activate) this.activate(id);
    this.save();
  }

  activate(id) {
    this.active = id;
    for (const [k, v] of this.views) {
      v.element.hidden = k !== id;
      const t = document.getElementById(`tab-${k}`);
      t.setAttribute('aria-pressed', String(k === id));
      t.parentElement.classList.toggle('active', k === id);
    }
    const view = this.views.get(id);
    requestAnimationFrame(() => { view.layout(); view.followNow(); });
    this.save();
  }

  close(id) {
    const view = this.views.get(id);
    if (!view) return;
    this.live.unfollow(id);
    view.dispose();
    this.views.delete(id);
    $(`.view-tab[data-job="${id}"]`)?.remove();
    if (this.active === id) {
      const last = [...this.views.keys()].pop();
      this.active = null;
      if (last !== undefined) this.activate(last);
    }
    this.save();
  }
}

let app = null;

async function enter(message) {
  // Who we are and the newest jobs at once: the first view waits for one round trip, not two.
  const firstJobs = api(JobTable.firstPage());
  firstJobs.catch(() => {}); // a 401 is reported by /me below
  try {
    const me = await api('/api/v1/me');
    app = new App(me);
    window.corral = app; // for the browser tests and the curious: the page's state, nothing secret
    await app.start(firstJobs);
  } catch (e) {
    if (e.status === 401) showLogin(message ?? (auth.token ? 'That token was refused.' : ''));
    else showLogin(`corrald did not answer: ${e.message}`);
  }
}

onUnauthenticated.addEventListener('401', () => {
  if (!app) return;
  app.stop();
  app = window.corral = null;
  showLogin('corrald no longer accepts this token (rotated, or removed): log in again.');
});

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  auth.token = e.target.token.value.trim();
  e.target.token.value = '';
  enter('That token was refused.');
});

$('#logout').addEventListener('click', () => {
  auth.token = '';
  sessionStorage.removeItem(VIEWS_KEY);
  if (app) { app.stop(); app = null; }
  showLogin('Logged out.');
});

auth.adoptFragment();
enter();
