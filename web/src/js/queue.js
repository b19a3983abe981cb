// The queue and the daemon's health: slots used of total, queued jobs, groups and their limits,
// drain mode (with drain/resume for admins). Refreshed on job events, at most once a second.

import { api } from './api.js';
import { el } from './format.js';

export class QueuePanel {
  constructor(root, health, { me, toast }) {
    this.root = root;
    this.health = health;
    this.me = me;
    this.toast = toast;
    this.pending = null;
  }

  /** Asks for a refresh; several within a second make one. */
  poke() {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.refresh(); }, 300);
  }

  async refresh() {
    const healthz = fetch('/healthz', { cache: 'no-store' }).then((res) => res.json()).catch(() => null);
    const queue = api('/api/v1/queue').catch((e) => e);
    const health = await healthz;
    this.health.replaceChildren(
      el('span', { class: `badge health-${health ? health.status : 'down'}`, text: health ? health.status : 'unreachable' }));
    const q = await queue;
    if (q instanceof Error) {
      const e = q;
      if (e.status !== 401) this.root.replaceChildren(el('p', { class: 'muted', text: `Queue: ${e.message}` }));
      return;
    }
    const groups = Object.entries(q.groups || {});
    const admin = this.me.role.admin;
    this.root.replaceChildren(...[
      el('div', { class: 'queue-facts' },
        el('span', {}, el('strong', { text: `${q.running}/${q.slots}` }), ' slots busy'),
        el('span', {}, el('strong', { text: String(q.queued) }), ' queued'),
        q.draining ? el('span', { class: 'badge health-draining', text: 'draining: nothing new starts' }) : null,
        admin ? el('button', { type: 'button', onclick: () => this.drain(!q.draining) }, q.draining ? 'Resume' : 'Drain') : null),
      groups.length ? el('table', { class: 'groups' },
        el('caption', { text: 'Groups' }),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'group' }), el('th', { scope: 'col', text: 'running' }),
          el('th', { scope: 'col', text: 'queued' }), el('th', { scope: 'col', text: 'limit' }))),
        el('tbody', {}, groups.map(([name, g]) => el('tr', {}, el('td', { text: name }), el('td', { text: String(g.running) }),
          el('td', { text: String(g.queued) }), el('td', { text: g.limit ? String(g.limit) : 'none' }))))) : null].filter(Boolean));
  }

  async drain(on) {
    try {
      await api(`/api/v1/queue/${on ? 'drain' : 'resume'}`, { method: 'POST' });
      this.refresh();
    } catch (e) {
      this.toast(e.message, true);
    }
  }
}
