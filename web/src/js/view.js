// One open job: its header and actions, its progress and result, and its output in xterm.js.
// The view keeps its own cursor (the next byte it expects): output it already shows is skipped and
// a gap is marked, so a reconnect or a second subscription can never show a byte twice.

import { api } from './api.js';
import { el, localTime, ago, jobDuration, exitText, commandText, asCorralCommand, asCurl, respec, utf8Length } from './format.js';
import { renderResult } from './result.js';

const SCROLLBACK = 10000; // lines kept in the view (each costs a row of cells up front); Download has the whole output
const SIGNALS = ['TERM', 'INT', 'HUP', 'QUIT', 'KILL', 'USR1', 'USR2', 'STOP', 'CONT'];
const FEED_MAX = 256 * 1024; // characters (or bytes) per terminal write
const FLOOD_PAUSE_MS = 100;  // after a big write, while a job pours out output (see feed())
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function countLines(data) {
  let n = 0;
  if (typeof data === 'string') {
    for (let at = data.indexOf('\n'); at !== -1; at = data.indexOf('\n', at + 1)) n++;
  } else {
    for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) n++;
  }
  return n;
}

const DARK = { background: '#16181d', foreground: '#d8dee9', cursor: '#16181d', selectionBackground: '#3b4252' };
const LIGHT = { background: '#fbfbfc', foreground: '#1f2328', cursor: '#fbfbfc', selectionBackground: '#c8d7f0',
  black: '#1f2328', red: '#c4231c', green: '#17803d', yellow: '#8a6100', blue: '#1c5fc4', magenta: '#a0289e',
  cyan: '#0e7c86', white: '#6e7781', brightBlack: '#57606a', brightRed: '#a40e26', brightGreen: '#116329',
  brightYellow: '#6f4e00', brightBlue: '#0a3069', brightMagenta: '#8250df', brightCyan: '#1b7c83', brightWhite: '#8c959f' };
const darkQuery = matchMedia('(prefers-color-scheme: dark)');

export function terminalTheme() { return darkQuery.matches ? DARK : LIGHT; }

// xterm.js is most of the page's code: it is loaded after the first view is up, while the page is
// idle, not before. Making a terminal (xterm.js measures its font, builds its rows) takes tens of
// milliseconds: one is made ahead, in a laid-out but off-screen holder, and a new job view takes it
// at once. The first byte of a new job's output then waits for nothing but the network.
let xterm = null;
let spare = null;

function loadTerminalCode() {
  xterm ??= Promise.all([import('../vendor/xterm.mjs'), import('../vendor/addon-fit.mjs'), import('../vendor/addon-search.mjs')])
    .then(([{ Terminal }, { FitAddon }, { SearchAddon }]) => ({ Terminal, FitAddon, SearchAddon }));
  return xterm;
}

function makeTerminal({ Terminal, FitAddon, SearchAddon }) {
  let holder = document.getElementById('terminal-spare');
  if (!holder) {
    holder = el('div', { id: 'terminal-spare', 'aria-hidden': 'true' });
    document.body.append(holder);
  }
  const box = el('div', { class: 'term' });
  holder.append(box);
  const term = new Terminal({
    convertEol: true, scrollback: SCROLLBACK, disableStdin: true, cursorBlink: false, cursorStyle: 'underline',
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace', fontSize: 13,
    theme: terminalTheme(), allowProposedApi: true, screenReaderMode: false,
  });
  const fit = new FitAddon();
  const search = new SearchAddon();
  term.loadAddon(fit);
  term.loadAddon(search);
  term.open(box);
  return { box, term, fit, search };
}

/** Loads xterm.js and makes the spare terminal when the page is idle. */
export function prepareTerminal() {
  if (spare) return;
  const make = async () => {
    const code = await loadTerminalCode();
    if (!spare) spare = makeTerminal(code);
  };
  if (window.requestIdleCallback) requestIdleCallback(make, { timeout: 1000 });
  else setTimeout(make, 200);
}

async function takeTerminal() {
  const kit = spare || makeTerminal(await loadTerminalCode());
  spare = null;
  kit.box.remove();
  prepareTerminal();
  return kit;
}

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
    this.pending = [];       // output not yet handed to the terminal
    this.pendingLines = 0;
    this.writing = false;    // a write is being parsed
    this.skippedLines = 0;
    this.stderrColour = '\x1b[91m';
    // build() comes after the caller has subscribed (App.open): output already on its way is
    // queued meanwhile, so the terminal's construction does not delay the first byte.
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
    this.render();
  }

  /** Puts a terminal in the view (after build(): xterm.js may still be loading). */
  async attachTerminal() {
    const kit = await takeTerminal();
    if (this.disposed) { kit.term.dispose(); return; }
    kit.box.dataset.job = String(this.id);
    this.termBox.replaceWith(kit.box);
    ({ box: this.termBox, term: this.term, fit: this.fit, search: this.search } = kit);
    this.term.onScroll(() => this.updateFollow());
    this.termBox.addEventListener('wheel', () => setTimeout(() => this.updateFollow(), 0), { passive: true });
    this.themeListener = () => { this.term.options.theme = terminalTheme(); };
    darkQuery.addEventListener('change', this.themeListener);
    this.resizeObserver = new ResizeObserver(() => this.layout());
    // The observer fits the terminal to its box before the next paint: no forced layout here.
    this.resizeObserver.observe(this.termBox);
    this.feed();
  }

  layout() {
    if (this.term && this.termBox.offsetParent) {
      try { this.fit.fit(); } catch { /* not laid out yet */ }
    }
  }

  following() {
    const b = this.term.buffer.active;
    return b.viewportY >= b.baseY;
  }

  updateFollow() {
    // Called on every scroll, which is every new line while following: touch the DOM on changes only.
    const on = this.following();
    if (on === this.followingShown) return;
    this.followingShown = on;
    this.followButton.textContent = on ? 'Following' : 'Paused: follow';
    this.followButton.setAttribute('aria-pressed', String(on));
  }

  followNow() {
    if (!this.term) return;
    this.term.scrollToBottom();
    this.updateFollow();
  }

  find(direction) {
    const q = this.searchInput.value;
    if (!q || !this.term) return;
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
    if (!this.element) return;
    const j = this.job;
    const live = ['queued', 'running', 'waiting', 'retrying'].includes(j.state);
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
    if (!this.element) return;
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
    const chain = this.renderChain();
    if (chain) parts.push(chain);
    const attempts = this.renderAttempts();
    if (attempts) parts.push(attempts);
    const task = j.task ? this.ctx.tasks.get(j.task) : null;
    const result = renderResult(j.result, task?.result);
    if (result) parts.push(result);
    this.extras.replaceChildren(...parts);
  }

  /** The jobs this one runs after, each with its state (loadChain() fetches them). */
  renderChain() {
    const j = this.job;
    const ids = [...(j.after || []).map((id) => [id, 'succeeded']), ...(j.after_any || []).map((id) => [id, 'ended'])];
    if (!ids.length) return null;
    const known = this.chain || new Map();
    return el('div', { class: 'chain' }, el('span', { class: 'muted', text: 'Runs after ' }),
      el('ul', { class: 'chain-list', 'aria-label': `Jobs job ${j.id} runs after` }, ids.slice(0, 50).map(([id, needs]) => {
        const dep = known.get(id);
        return el('li', {}, el('button', { type: 'button', class: 'link', onclick: () => this.ctx.onOpen(id) }, `#${id}`),
          ' ', dep ? stateBadge(dep.state) : null, el('span', { class: 'muted', text: ` (must have ${needs})` }));
      })),
      ids.length > 50 ? el('span', { class: 'muted', text: ` and ${ids.length - 50} more` }) : null);
  }

  async loadChain() {
    const ids = [...(this.job.after || []), ...(this.job.after_any || [])].slice(0, 50);
    if (!ids.length) return;
    const found = new Map();
    await Promise.all(ids.map(async (id) => {
      try { found.set(id, await api(`/api/v1/jobs/${id}`)); } catch { /* gone, or not ours to see */ }
    }));
    this.chain = found;
    this.renderExtras();
  }

  /** A retried job's attempts: each one's end, and when the next one starts. */
  renderAttempts() {
    const j = this.job;
    if (!j.retry && !(j.attempts || []).length) return null;
    const rows = (j.attempts || []).map((a) => el('li', {}, `attempt ${a.attempt} `, stateBadge(a.state), ` ${a.reason}`));
    const of = j.retry ? ` of ${j.retry.attempts}` : '';
    const now = j.state === 'retrying' && j.next_attempt
      ? `next attempt (${j.attempt + 1}${of}) at ${localTime(j.next_attempt)}` : `attempt ${j.attempt}${of}`;
    return el('div', { class: 'attempts' }, el('span', { class: 'muted', text: now }),
      rows.length ? el('ol', { class: 'attempt-list', 'aria-label': `Earlier attempts of job ${j.id}` }, rows) : null);
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
    const stateChanged = job.state !== this.job.state;
    this.job = job;
    // Drawn with the next frame, once however many events came: output messages arriving meanwhile
    // are not held up behind the header's layout.
    if (!this.renderPending) {
      this.renderPending = true;
      requestAnimationFrame(() => { this.renderPending = false; this.render(); });
    }
    if (progressed) this.loadSteps();
    if (stateChanged) this.loadChain();  // leaving `waiting` means the jobs it runs after have moved on
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
    this.queue(msg.stream === 'stderr' ? [this.stderrColour, data, '\x1b[39m'] : [data]);
  }

  // ---- feeding the terminal ------------------------------------------------------------------
  // Output waits here until xterm.js has parsed the previous piece (its write callback), so a job
  // that pours faster than the terminal parses never piles up work on the main thread. Lines that
  // would scroll out of the view's scrollback before anyone could see them are skipped (plain text
  // only: a pty's screen drawing is always fed whole); a marker says so, and Download has them.

  queue(pieces) {
    this.lastArrival = performance.now();
    for (const p of pieces) {
      this.pending.push(p);
      this.pendingLines += countLines(p);
    }
    this.feed();
  }

  feed() {
    if (!this.term || this.writing || this.pending.length === 0) return;
    if (!this.job.pty && this.pendingLines > SCROLLBACK + this.term.rows) this.skipAhead();
    // One piece of at most FEED_MAX per write: the parser's work between two frames stays small.
    let piece = this.pending.shift();
    if (typeof piece === 'string' && piece.length > FEED_MAX) {
      this.pending.unshift(piece.slice(FEED_MAX));
      piece = piece.slice(0, FEED_MAX);
    } else if (typeof piece !== 'string' && piece.length > FEED_MAX) {
      this.pending.unshift(piece.subarray(FEED_MAX));
      piece = piece.subarray(0, FEED_MAX);
    }
    this.pendingLines -= countLines(piece);
    this.writing = true;
    // A big piece means a job is pouring: let output gather for a moment before the next one, so
    // the terminal parses what will stay in view rather than lines about to scroll away. A live
    // tail's small pieces go straight on.
    const big = piece.length >= FEED_MAX / 4;
    this.term.write(piece, () => {
      const pouring = big && performance.now() - this.lastArrival < FLOOD_PAUSE_MS / 2;
      if (pouring) setTimeout(() => { this.writing = false; this.feed(); }, FLOOD_PAUSE_MS);
      else { this.writing = false; this.feed(); }
    });
  }

  /** Drops queued text from the front until only what the scrollback can hold is left. */
  skipAhead() {
    let excess = this.pendingLines - (SCROLLBACK + this.term.rows);
    let skipped = 0;
    while (excess > 0 && this.pending.length) {
      const head = this.pending[0];
      const text = typeof head === 'string' ? head : decoder.decode(head);
      const lines = countLines(text);
      if (lines <= excess) {
        this.pending.shift();
        excess -= lines;
        this.pendingLines -= lines;
        skipped += lines;
        continue;
      }
      let at = -1;
      for (let i = 0; i < excess; i++) at = text.indexOf('\n', at + 1);
      this.pending[0] = text.slice(at + 1);
      this.pendingLines -= excess;
      skipped += excess;
      excess = 0;
    }
    if (skipped) {
      this.skippedLines += skipped;
      this.pending.unshift(`\x1b[2;3m[… ${this.skippedLines} earlier lines skipped while catching up: Download output has them …]\x1b[22;23m\n`);
      this.pendingLines += 1;
    }
  }

  lost(msg) {
    if (msg.offset + msg.bytes <= this.next) return;
    this.mark(`${msg.bytes} bytes lost: the job's log no longer has them (output_cap)`);
    this.next = Math.max(this.next, msg.offset + msg.bytes);
  }

  mark(text) {
    this.queue([`\r\n\x1b[2;3m[… ${text} …]\x1b[22;23m\r\n`]);
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
    this.disposed = true;
    if (this.term) {
      darkQuery.removeEventListener('change', this.themeListener);
      this.resizeObserver.disconnect();
      this.term.dispose();
    }
    this.element.remove();
  }
}
