// The jobs table: newest first, filtered by state, owner and label, paged with the API's cursor
// (`before=`), kept current by the live job events without reloading. Rows are updated in place,
// so a thousand of them stay cheap; only running rows' durations tick.

import { api } from './api.js';
import { el, localTime, ago, jobDuration, exitText, commandText } from './format.js';
import { stateBadge } from './view.js';

const PAGE = 200;

export class JobTable {
  constructor(root, { onOpen, toast }) {
    this.body = root.querySelector('#job-table .rows');
    this.more = root.querySelector('#more');
    this.filtersForm = root.querySelector('#filters');
    this.onOpen = onOpen;
    this.toast = toast;
    this.rows = new Map(); // id -> { tr, job }
    this.filters = {};
    this.next = null;
    this.filtersForm.addEventListener('submit', (e) => { e.preventDefault(); this.applyFilters(); });
    this.filtersForm.querySelector('select').addEventListener('change', () => this.applyFilters());
    this.more.addEventListener('click', () => this.load(true));
    this.body.addEventListener('click', (e) => {
      const tr = e.target.closest('[data-id]');
      if (tr) this.onOpen(Number(tr.dataset.id));
    });
    this.body.addEventListener('keydown', (e) => {
      const tr = e.target.closest('[data-id]');
      if (tr && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); this.onOpen(Number(tr.dataset.id)); }
    });
  }

  applyFilters() {
    const f = new FormData(this.filtersForm);
    this.filters = { state: f.get('state') || '', owner: (f.get('owner') || '').trim(), label: (f.get('label') || '').trim() };
    this.load(false);
  }

  query() {
    const q = new URLSearchParams({ order: 'newest', limit: String(PAGE) });
    for (const [k, v] of Object.entries(this.filters)) if (v) q.set(k, v);
    return q;
  }

  /** The first page's URL with no filter: the page asks for it before it has set itself up. */
  static firstPage() { return `/api/v1/jobs?order=newest&limit=${PAGE}`; }

  async load(more, prefetched = null) {
    if (more && this.loadingMore) return; // one page at a time: the cursor moves with each
    const q = this.query();
    if (more && this.next) q.set('before', String(this.next));
    this.loadingMore = more;
    this.more.disabled = true;
    try {
      const page = await (prefetched || api(`/api/v1/jobs?${q}`));
      if (!more) { this.rows.clear(); this.body.replaceChildren(); }
      const frag = document.createDocumentFragment();
      for (const job of page.jobs) if (!this.rows.has(job.id)) frag.append(this.row(job));
      this.body.append(frag);
      this.next = page.next;
      this.more.hidden = page.next == null;
    } catch (e) {
      if (e.status !== 401) this.toast(`Jobs: ${e.message}`, true);
    } finally {
      this.loadingMore = false;
      this.more.disabled = false;
    }
  }

  /**
   * After events may have been missed (a reconnect, a slow connection's dropped events): reloads
   * every row shown, newest first down to the oldest loaded, and updates them in place; paging
   * and scrolling stay where they are.
   */
  async refresh() {
    let oldest = null;
    for (const id of this.rows.keys()) if (oldest === null || id < oldest) oldest = id;
    let before = 0;
    try {
      for (;;) {
        const q = this.query();
        if (before) q.set('before', String(before));
        const page = await api(`/api/v1/jobs?${q}`);
        for (const job of page.jobs) this.update(job);
        if (oldest === null) { this.next = page.next; this.more.hidden = page.next == null; }
        if (page.next == null || oldest === null || page.next <= oldest) break;
        before = page.next;
      }
    } catch (e) {
      if (e.status !== 401) this.toast(`Jobs: ${e.message}`, true);
    }
  }

  matches(job) {
    const f = this.filters;
    if (f.state && job.state !== f.state) return false;
    if (f.owner && job.owner !== f.owner) return false;
    if (f.label) {
      const eq = f.label.indexOf('=');
      if (eq < 0 || (job.labels || {})[f.label.slice(0, eq)] !== f.label.slice(eq + 1)) return false;
    }
    return true;
  }

  /** A job event: update its row, or add it on top when it is new and matches. */
  update(job) {
    const known = this.rows.get(job.id);
    if (known) {
      if (!this.matches(job)) { known.tr.remove(); this.rows.delete(job.id); return; }
      known.job = job;
      this.fill(known.tr, job);
      return;
    }
    if (!this.matches(job)) return;
    // Newer than the first row: on top. Older ones belong to pages not loaded yet.
    const first = this.body.firstElementChild;
    if (!first || Number(first.dataset.id) < job.id) this.body.prepend(this.row(job));
    else {
      const after = [...this.body.children].find((tr) => Number(tr.dataset.id) < job.id);
      if (after) this.body.insertBefore(this.row(job), after);
    }
  }

  row(job) {
    const tr = el('div', { role: 'row', class: 'jrow', 'data-id': String(job.id), tabindex: '0', 'aria-label': `Open job ${job.id}` });
    for (let i = 0; i < 8; i++) tr.append(el('span', { role: 'cell' }));
    this.rows.set(job.id, { tr, job });
    this.fill(tr, job);
    return tr;
  }

  fill(tr, job) {
    // Only what changed is written: an event usually changes the state and the times, not the rest.
    const c = tr.children;
    const set = (cell, text) => { text = String(text); if (cell.textContent !== text) cell.textContent = text; };
    set(c[0], job.id);
    if (c[1].firstChild?.textContent !== job.state.replace('_', ' ')) c[1].replaceChildren(stateBadge(job.state));
    set(c[2], job.owner);
    const command = commandText(job);
    if (c[3].textContent !== command) {
      c[3].textContent = command;
      c[3].title = command;
      c[3].className = 'cmd';
    }
    set(c[4], job.priority ?? '');
    set(c[5], ago(job.created));
    const times = `created ${localTime(job.created)}${job.started ? `, started ${localTime(job.started)}` : ''}`;
    if (c[5].title !== times) c[5].title = times;
    set(c[6], jobDuration(job));
    set(c[7], exitText(job));
  }

  /** Once a second: running durations, and the relative creation times. */
  tick() {
    const now = Date.now();
    for (const { tr, job } of this.rows.values()) {
      if (job.state === 'running') tr.children[6].textContent = jobDuration(job, now);
    }
  }

  job(id) { return this.rows.get(id)?.job; }
}
