// One open job: its header and actions, its progress and result, and its output in xterm.js.
// The view keeps its own cursor (the next byte it expects): output it already shows is skipped and
// a gap is marked, so a reconnect or a second subscription can never show a byte twice.

import { Terminal } from '../vendor/xterm.mjs';
import { FitAddon } from '../vendor/addon-fit.mjs';
import { SearchAddon } from '../vendor/addon-search.mjs';
import { api } from './api.js';
import { el, localTime, ago, jobDuration, exitText, commandText, asCorralCommand, asCurl, respec, utf8Length } from './format.js';
import { renderResult } from './result.js';

const SCROLLBACK = 50000; // lines kept in the view; Download has the whole output
const SIGNALS = ['TERM', 'INT', 'HUP', 'QUIT', 'KILL', 'USR1', 'USR2', 'STOP', 'CONT'];
const encoder = new TextEncoder();

const DARK = { background: '#16181d', foreground: '#d8dee9', cursor: '#16181d', selectionBackground: '#3b4252' };
const LIGHT = { background: '#fbfbfc', foreground: '#1f2328', cursor: '#fbfbfc', selectionBackground: '#c8d7f0',
  black: '#1f2328', red: '#c4231c', green: '#17803d', yellow: '#8a6100', blue: '#1c5fc4', magenta: '#a0289e',
  cyan: '#0e7c86', white: '#6e7781', brightBlack: '#57606a', brightRed: '#a40e26', brightGreen: '#116329',
  brightYellow: '#6f4e00', brightBlue: '#0a3069', brightMagenta: '#8250df', brightCyan: '#1b7c83', brightWhite: '#8c959f' };
const darkQuery = matchMedia('(prefers-color-scheme: dark)');

export function terminalTheme() { return darkQuery.matches ? DARK : LIGHT; }

export function stateBadge(state) {
  return el('span', { class: `badge state-${state}`, text: state.replace('_', ' ') });
}

export class JobView {
  /** `ctx`: { live, me, tasks (name -> task), onOpen(id), onRerun(job), toast(text) } */
  constructor(job, ctx) {
    this.id = job.id;
    this.job = job;
    this.ctx = ctx;
    this.next = 0;           // the cursor: the byte offset of the next output byte to show
    this.eof = false;
    this.stderrColour = '\x1b[91m';
    this.build();
  }

  // ---- the DOM -------------------------------------------------------------------------------

  build() {
    this.header = el('div', { class: 'view-header' });
    this.actions = el('div', { class: 'view-actions' });
    this.extras = el('div', { class: 'view-extras' });
    this.searchInput = el('input', { type: 'search', placeholder: 'Search output', 'aria-label': 'Search the output',
      onkeydown: (e) => { if (e.key === 'Enter') { e.preventDefault(); this.find(e.shiftKey ? -1 : 1); } } });
    this.searchStatus = el('span', { class: 'search-status muted', role: 'status' });
    this.followButton = el('button', { type: 'button', class: 'follow', 'aria-pressed': 'true', onclick: () => this.followNow() }, 'Following');
    this.status = el('span', { class: 'muted output-status' });
    const toolbar = el('div', { class: 'view-toolbar' },
      this.searchInput,
      el('button', { type: 'button', onclick: () => this.find(-1), 'aria-label': 'Previous match' }, '↑'),
      el('button', { type: 'button', onclick: () => this.find(1), 'aria-label': 'Next match' }, '↓'),
      this.searchStatus, el('span', { class: 'spacer' }), this.status,
      el('span', { class: 'legend' }, el('span', { class: 'legend-stderr', text: 'stderr' }), ' in red'),
      this.followButton);
    this.termBox = el('div', { class: 'term', 'data-job': String(this.id) });
    this.element = el('section', { class: 'view', id: `view-${this.id}`, role: 'region', 'aria-label': `Job ${this.id}` },
      this.header, this.actions, this.extras, toolbar, this.termBox);

    this.term = new Terminal({
      convertEol: true, scrollback: SCROLLBACK, disableStdin: true, cursorBlink: false, cursorStyle: 'underline',
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace', fontSize: 13,
      theme: terminalTheme(), allowProposedApi: true, screenReaderMode: false,
    });
    this.fit = new FitAddon();
    this.search = new SearchAddon();
    this.term.loadAddon(this.fit);
    this.term.loadAddon(this.search);
    this.term.open(this.termBox);
    this.term.onScroll(() => this.updateFollow());
    this.termBox.addEventListener('wheel', () => setTimeout(() => this.updateFollow(), 0), { passive: true });
    this.themeListener = () => { this.term.options.theme = terminalTheme(); };
    darkQuery.addEventListener('change', this.themeListener);
    this.resizeObserver = new ResizeObserver(() => this.layout());
    this.resizeObserver.observe(this.termBox);
    this.render();
  }

  layout() {
    if (this.termBox.offsetParent) {
      try { this.fit.fit(); } catch { /* not laid out yet */ }
    }
  }

  following() {
    const b = this.term.buffer.active;
    return b.viewportY >= b.baseY;
  }

  updateFollow() {
    const on = this.following();
    this.followButton.textContent = on ? 'Following' : 'Paused: follow';
    this.followButton.setAttribute('aria-pressed', String(on));
  }

  followNow() {
    this.term.scrollToBottom();
    this.updateFollow();
  }

  find(direction) {
    const q = this.searchInput.value;
    if (!q) return;
    const opts = { caseSensitive: false, decorations: { matchOverviewRuler: '#d19a00', activeMatchColorOverviewRuler: '#ff6a00', matchBackground: '#7a5a00', activeMatchBackground: '#ff6a00' } };
    const found = direction > 0 ? this.search.findNext(q, opts) : this.search.findPrevious(q, opts);
    this.searchStatus.textContent = found ? 'found' : 'not found';
    this.updateFollow();
  }

  mayControl() {
    const { me } = this.ctx;
    return this.job.owner === me.user || me.role.kill_all;
  }

  render() {
    const j = this.job;
    const live = j.state === 'queued' || j.state === 'running';
    this.header.replaceChildren(
      el('h3', {}, `#${j.id} `, el('code', { text: commandText(j) })),
      el('div', { class: 'facts' }, stateBadge(j.state),
        el('span', { text: `owner ${j.owner}` }),
        el('span', { title: localTime(j.created), text: `created ${ago(j.created)}` }),
        j.started ? el('span', { title: localTime(j.started), text: `started ${localTime(j.started)}` }) : null,
        el('span', { class: 'duration', 'data-running': live ? 'true' : null, text: jobDuration(j) }),
        j.exit ? el('span', { text: `exit ${exitText(j)}` }) : null,
        j.reason ? el('span', { class: 'reason', text: j.reason }) : null));
    this.renderActions(live);
    this.renderExtras();
  }

  renderActions(live) {
    const j = this.job;
    const parts = [];
    if (live && this.mayControl()) {
      const signal = el('select', { 'aria-label': 'Signal' },
        el('option', { value: '', text: 'stop plan' }), SIGNALS.map((s) => el('option', { value: s, text: `SIG${s}` })));
      parts.push(el('span', { class: 'group' },
        el('button', { type: 'button', class: 'danger kill', onclick: () => this.kill(signal.value) }, 'Kill'), signal));
      if (j.stdin === 'pipe') {
        const input = el('input', { type: 'text', placeholder: 'a line for stdin', 'aria-label': 'Standard input' });
        const close = el('input', { type: 'checkbox', 'aria-label': 'then close stdin' });
        parts.push(el('form', { class: 'group stdin', onsubmit: (e) => { e.preventDefault(); this.writeStdin(input, close.checked); } },
          input, el('label', { class: 'check' }, close, ' close'), el('button', { type: 'submit' }, 'Send')));
      }
    }
    const mayRun = j.task ? this.ctx.mayRunTask(j.task) : this.ctx.me.role.commands;
    if (mayRun) parts.push(el('button', { type: 'button', onclick: () => this.ctx.onRerun(respec(j)) }, 'Re-run'));
    parts.push(
      el('button', { type: 'button', onclick: () => this.copy(asCorralCommand(j), 'corral command') }, 'Copy as corral'),
      el('button', { type: 'button', onclick: () => this.copy(asCurl(j), 'curl command') }, 'Copy as curl'),
      el('button', { type: 'button', onclick: () => this.download() }, 'Download output'));
    this.actions.replaceChildren(...parts);
  }

  renderExtras() {
    const j = this.job;
    const parts = [];
    if (j.progress != null) {
      const pct = Math.round(j.progress * 100);
      parts.push(el('div', { class: 'progress-row' },
        el('progress', { max: 100, value: pct, 'aria-label': `Progress of job ${j.id}` }), el('span', { text: `${pct} %` })));
    }
    if (this.steps?.length) {
      parts.push(el('ol', { class: 'steps', 'aria-label': 'Steps' }, this.steps.map((s) =>
        el('li', {}, el('button', { type: 'button', class: 'link', onclick: () => this.ctx.onOpen(s.id) }, `#${s.id} ${commandText(s)}`), ' ', stateBadge(s.state)))));
    }
    const task = j.task ? this.ctx.tasks.get(j.task) : null;
    const result = renderResult(j.result, task?.result);
    if (result) parts.push(result);
    this.extras.replaceChildren(...parts);
  }

  async loadSteps() {
    if (!this.job.task && this.job.progress == null) return;
    try {
      const page = await api(`/api/v1/jobs?label=${encodeURIComponent(`corral.parent=${this.id}`)}&limit=100`);
      this.steps = page.jobs;
      this.renderExtras();
    } catch { /* steps are a convenience */ }
  }

  tick() {
    const d = this.header.querySelector('.duration[data-running]');
    if (d) d.textContent = jobDuration(this.job);
  }

  // ---- live messages -------------------------------------------------------------------------

  cursor() { return this.next; }

  onMessage(msg) {
    if (msg.type === 'output') this.write(msg);
    else if (msg.type === 'lost') this.lost(msg);
    else if (msg.type === 'eof') { this.eof = true; this.status.textContent = 'end of output'; }
    else if (msg.type === 'event') this.update(msg.job);
  }

  update(job) {
    const progressed = job.progress !== this.job.progress;
    this.job = job;
    this.render();
    if (progressed) this.loadSteps();
  }

  write(msg) {
    let data = msg.encoding === 'base64' ? Uint8Array.from(atob(msg.data), (c) => c.charCodeAt(0)) : msg.data;
    const length = typeof data === 'string' ? utf8Length(data) : data.length;
    const end = msg.offset + length;
    if (end <= this.next) return; // shown already
    if (msg.offset < this.next) { // overlaps what is shown: keep only the new bytes
      const bytes = typeof data === 'string' ? encoder.encode(data) : data;
      data = bytes.subarray(this.next - msg.offset);
    } else if (msg.offset > this.next) {
      this.mark(`${msg.offset - this.next} bytes missing`);
    }
    this.next = end;
    if (msg.stream === 'stderr') {
      this.term.write(this.stderrColour);
      this.term.write(data);
      this.term.write('\x1b[39m');
    } else {
      this.term.write(data);
    }
  }

  lost(msg) {
    if (msg.offset + msg.bytes <= this.next) return;
    this.mark(`${msg.bytes} bytes lost: the job's log no longer has them (output_cap)`);
    this.next = Math.max(this.next, msg.offset + msg.bytes);
  }

  mark(text) {
    this.term.write(`\r\n\x1b[2;3m[… ${text} …]\x1b[22;23m\r\n`);
  }

  // ---- actions -------------------------------------------------------------------------------

  async kill(signal) {
    try {
      await api(`/api/v1/jobs/${this.id}/kill`, { method: 'POST', body: signal ? { signal } : {} });
      this.ctx.toast(signal ? `Sent SIG${signal} to job ${this.id}` : `Stopping job ${this.id}`);
    } catch (e) {
      this.ctx.toast(`Kill failed: ${e.message}`, true);
    }
  }

  async writeStdin(input, close) {
    try {
      await api(`/api/v1/jobs/${this.id}/stdin${close ? '?close=true' : ''}`,
        { method: 'POST', body: input.value + '\n', type: 'text/plain' });
      input.value = '';
    } catch (e) {
      this.ctx.toast(`stdin: ${e.message}`, true);
    }
  }

  async copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      this.ctx.toast(`Copied the ${what}`);
    } catch {
      // No clipboard (a non-secure origin): show it to copy by hand.
      this.ctx.toast(text);
    }
  }

  /** The whole output, page by page from the API (raw bytes), saved as a file. */
  async download() {
    const parts = [];
    let from = 0;
    try {
      for (;;) {
        const res = await api(`/api/v1/jobs/${this.id}/output?format=raw&from=${from}&max=${16 << 20}`, { raw: true });
        parts.push(await res.blob());
        const next = Number(res.headers.get('X-Corral-Next'));
        if (res.headers.get('X-Corral-Eof') === 'true' || next <= from) break;
        from = next;
      }
    } catch (e) {
      this.ctx.toast(`Download failed: ${e.message}`, true);
      return;
    }
    const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
    const a = el('a', { href: url, download: `corral-job-${this.id}.log` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  dispose() {
    darkQuery.removeEventListener('change', this.themeListener);
    this.resizeObserver.disconnect();
    this.term.dispose();
    this.element.remove();
  }
}
