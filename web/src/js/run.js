// The run panel: a command box (Enter runs; ↑/↓ recall the history kept in local storage) with its
// options, and a task picker whose form is made from GET /api/v1/tasks. The server validates:
// its errors are shown at the field they name.

import { api } from './api.js';
import { el } from './format.js';

const HISTORY_KEY = 'corral.history';
const HISTORY_MAX = 100;

function loadHistory() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}

function showError(form, text) {
  const p = form.querySelector(':scope > .form-error');
  p.textContent = text || '';
  p.hidden = !text;
}

export class RunPanel {
  /** `ctx`: { me, tasks (Map), onSubmitted(job) } */
  constructor(root, ctx) {
    this.ctx = ctx;
    this.commandForm = root.querySelector('#panel-command');
    this.taskForm = root.querySelector('#panel-task');
    this.input = root.querySelector('#command');
    this.history = loadHistory();
    this.position = this.history.length;
    this.draft = '';
    this.setUpTabs(root);
    this.commandForm.addEventListener('submit', (e) => { e.preventDefault(); this.runCommand(); });
    this.input.addEventListener('keydown', (e) => this.recall(e));
    this.taskForm.addEventListener('submit', (e) => { e.preventDefault(); this.runTask(); });
    this.taskSelect = root.querySelector('#task-name');
    this.taskSelect.addEventListener('change', () => this.buildTaskForm());
    this.refreshTasks();
  }

  setUpTabs(root) {
    const tabs = [root.querySelector('#tab-command'), root.querySelector('#tab-task')];
    const panels = [this.commandForm, this.taskForm];
    const { me } = this.ctx;
    const select = (i, focus) => {
      tabs.forEach((t, k) => {
        t.setAttribute('aria-selected', String(k === i));
        t.tabIndex = k === i ? 0 : -1;
        panels[k].hidden = k !== i;
      });
      if (focus) tabs[i].focus();
    };
    tabs.forEach((t, i) => {
      t.addEventListener('click', () => select(i, false));
      t.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') select((i + 1) % 2, true);
      });
    });
    // A role without ad-hoc commands runs tasks only.
    if (!me.role.commands) { tabs[0].hidden = true; select(1, false); }
    this.selectTab = select;
  }

  recall(e) {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    if (!this.history.length) return;
    e.preventDefault();
    if (this.position === this.history.length) this.draft = this.input.value;
    this.position = Math.max(0, Math.min(this.history.length, this.position + (e.key === 'ArrowUp' ? -1 : 1)));
    this.input.value = this.position === this.history.length ? this.draft : this.history[this.position];
  }

  remember(line) {
    this.history = this.history.filter((h) => h !== line);
    this.history.push(line);
    if (this.history.length > HISTORY_MAX) this.history.splice(0, this.history.length - HISTORY_MAX);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history));
    this.position = this.history.length;
    this.draft = '';
  }

  async runCommand() {
    const line = this.input.value.trim();
    const f = new FormData(this.commandForm);
    if (!line) { showError(this.commandForm, 'Type a command first.'); return; }
    const spec = { shell: line };
    if (f.get('cwd')) spec.cwd = String(f.get('cwd'));
    if (f.get('timeout')) spec.timeout = String(f.get('timeout'));
    if (f.get('pty')) spec.pty = true;
    if (f.get('merge')) spec.merge = true;
    if (f.get('stdin')) spec.stdin = 'pipe';
    if (await this.submit(spec, this.commandForm)) {
      this.remember(line);
      this.input.value = '';
    }
  }

  /** Submits a job spec; shows the error in `form` (or reports it); returns the job or null. */
  async submit(spec, form = this.commandForm) {
    showError(form, '');
    try {
      const job = await api('/api/v1/jobs', { method: 'POST', body: spec });
      this.ctx.onSubmitted(job);
      return job;
    } catch (e) {
      showError(form, e.message);
      return null;
    }
  }

  async refreshTasks() {
    let list = [];
    try { list = (await api('/api/v1/tasks')).tasks; } catch { /* shown below as none */ }
    this.ctx.tasks.clear();
    for (const t of list) this.ctx.tasks.set(t.name, t);
    const mine = list.filter((t) => this.ctx.mayRunTask(t.name));
    this.taskSelect.replaceChildren(...mine.map((t) => el('option', { value: t.name, text: t.name })));
    document.querySelector('#tab-task').hidden = mine.length === 0;
    if (mine.length === 0 && !this.ctx.me.role.commands) showError(this.taskForm, 'Your role may run no task and no command.');
    this.buildTaskForm();
  }

  buildTaskForm() {
    const task = this.ctx.tasks.get(this.taskSelect.value);
    const fields = this.taskForm.querySelector('#task-fields');
    this.taskForm.querySelector('#task-description').textContent = task ? task.description : '';
    showError(this.taskForm, '');
    fields.replaceChildren(...(task ? task.args.map((a) => this.field(a)) : []));
  }

  field(a) {
    const id = `arg-${a.name}`;
    const described = `${id}-error`;
    const help = [a.description, a.min != null ? `≥ ${a.min}` : '', a.max != null ? `≤ ${a.max}` : '', a.pattern ? `matches ${a.pattern}` : '']
      .filter(Boolean).join(' · ');
    let input;
    if (a.type === 'bool') {
      input = el('input', { id, name: a.name, type: 'checkbox', checked: a.default === true, 'aria-describedby': described });
      return el('div', { class: 'field check' }, el('label', { for: id }, input, ` ${a.name}`),
        help ? el('span', { class: 'muted', text: help }) : null, el('span', { id: described, class: 'field-error', role: 'alert' }));
    }
    if (a.choices) {
      input = el('select', { id, name: a.name, 'aria-describedby': described },
        a.required ? null : el('option', { value: '', text: '(default)' }),
        a.choices.map((c) => el('option', { value: c, text: c, selected: c === a.default })));
    } else {
      // Text even for numbers: the server is the one judge of a value, and says what is wrong.
      input = el('input', { id, name: a.name, type: 'text', inputmode: a.type === 'int' || a.type === 'float' ? 'decimal' : null,
        placeholder: a.default != null ? String(a.default) : '', 'aria-describedby': described, 'aria-required': a.required ? 'true' : null });
    }
    return el('div', { class: 'field' },
      el('label', { for: id }, a.name, a.required ? el('span', { class: 'required', title: 'required', text: ' *' }) : null),
      input, help ? el('span', { class: 'muted', text: help }) : null,
      el('span', { id: described, class: 'field-error', role: 'alert' }));
  }

  async runTask() {
    const task = this.ctx.tasks.get(this.taskSelect.value);
    if (!task) return;
    const args = {};
    for (const a of task.args) {
      const input = this.taskForm.elements.namedItem(a.name);
      if (a.type === 'bool') args[a.name] = input.checked;
      else if (input.value !== '') args[a.name] = input.value;
    }
    for (const e of this.taskForm.querySelectorAll('.field-error')) e.textContent = '';
    showError(this.taskForm, '');
    try {
      const job = await api('/api/v1/jobs', { method: 'POST', body: { task: task.name, args } });
      this.ctx.onSubmitted(job);
    } catch (e) {
      this.showFieldErrors(task, e.message);
    }
  }

  /** "task 'sleep': seconds: must be a number, not "a"; other: ..." -> each at its field. */
  showFieldErrors(task, message) {
    const rest = [];
    const body = message.replace(/^task '[^']*': /, '');
    for (const part of body.split('; ')) {
      const m = /^([A-Za-z0-9_-]+): (.*)$/.exec(part);
      const target = m && this.taskForm.querySelector(`#arg-${CSS.escape(m[1])}-error`);
      if (target) target.textContent = m[2];
      else rest.push(part);
    }
    if (rest.length) showError(this.taskForm, rest.join('; '));
    const first = this.taskForm.querySelector('.field-error:not(:empty)');
    if (first) document.getElementById(first.id.replace(/-error$/, ''))?.focus();
  }
}
