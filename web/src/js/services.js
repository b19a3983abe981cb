// corrald's services beside the jobs: each one's state, runs and why it stopped or failed, with
// start, stop and restart for roles that may act on them, and its current run's output opened as
// a job view. Hidden for roles that do not see services, and when there are none. Refreshed on
// their state changes from the live stream (and their runs' job events), and every few seconds
// while one is between states, in case the stream is down.

import { api } from './api.js';
import { el } from './format.js';

const TRANSIENT = new Set(['waiting', 'starting', 'backoff', 'stopping']);

export class ServicesPanel {
  constructor(section, { me, toast, onOpen }) {
    this.section = section;
    this.root = section.querySelector('#services');
    this.me = me;
    this.toast = toast;
    this.onOpen = onOpen;
    this.pending = null;
    this.timer = null;
  }

  /** Asks for a refresh; several close together make one. */
  poke() {
    if (this.pending) return;
    this.pending = setTimeout(() => { this.pending = null; this.refresh(); }, 300);
  }

  async refresh() {
    let list;
    try {
      list = (await api('/api/v1/services')).services;
    } catch (e) {
      this.section.hidden = true; // a role without see_all sees no services
      return;
    }
    this.section.hidden = list.length === 0;
    const act = this.me.role.kill_all || this.me.role.admin;
    this.root.replaceChildren(el('ul', { class: 'service-list' }, list.map((s) => this.row(s, act))));
    clearTimeout(this.timer);
    if (list.some((s) => TRANSIENT.has(s.state))) this.timer = setTimeout(() => this.refresh(), 2000);
  }

  row(s, act) {
    const running = !['stopped', 'failed'].includes(s.state);
    const button = (verb, label) => el('button', {
      type: 'button', class: `svc-${verb}`, 'aria-label': `${label} ${s.name}`,
      onclick: () => this.act(s.name, verb),
    }, label);
    return el('li', { class: 'service', 'data-service': s.name },
      el('div', { class: 'service-head' },
        el('strong', { text: s.name }),
        el('span', { class: `badge svc-state-${s.state}`, text: s.state }),
        el('span', { class: 'muted', text: `${s.runs} run${s.runs === 1 ? '' : 's'}${s.restarts ? `, ${s.restarts} restarts in a row` : ''}` }),
        s.job ? el('button', { type: 'button', class: 'svc-output', onclick: () => this.onOpen(s.job) }, 'Output') : null,
        act && !running ? button('start', 'Start') : null,
        act && running ? button('restart', 'Restart') : null,
        act && running ? button('stop', 'Stop') : null),
      s.reason ? el('p', { class: 'service-reason', text: s.reason }) : null,
      s.description ? el('p', { class: 'service-reason', text: s.description }) : null);
  }

  async act(name, verb) {
    try {
      await api(`/api/v1/services/${encodeURIComponent(name)}/${verb}`, { method: 'POST' });
      this.refresh();
    } catch (e) {
      this.toast(`${name}: ${e.message}`, true);
    }
  }

  stop() { clearTimeout(this.timer); clearTimeout(this.pending); }
}
