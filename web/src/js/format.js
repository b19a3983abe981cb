// Text for people: times in the user's locale, durations, commands, and the same job as a
// `corral` or `curl` command line.

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function localTime(iso) {
  return iso ? timeFormat.format(new Date(iso)) : '';
}

export function ago(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const a = Math.abs(s);
  if (a < 60) return relative.format(s, 'second');
  if (a < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (a < 86400) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

export function duration(ms) {
  if (ms == null) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60), rest = Math.floor(s % 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** How long a job ran, or has been running (`now` ticks while it runs). */
export function jobDuration(job, now = Date.now()) {
  if (job.duration_ms != null) return duration(job.duration_ms);
  if (job.started && !job.finished) return duration(now - new Date(job.started).getTime());
  return '';
}

export function exitText(job) {
  const e = job.exit;
  if (!e) return '';
  if (e.code !== undefined) return String(e.code);
  return `SIG${e.signal}${e.core_dumped ? ' (core)' : ''}`;
}

function shQuote(s) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${String(s).replace(/'/g, `'\\''`)}'`;
}

export function commandText(job) {
  if (job.task) return `${job.task} ${Object.entries(job.args || {}).map(([k, v]) => `${k}=${v}`).join(' ')}`.trim();
  if (job.shell !== undefined) return job.shell;
  return (job.command || []).map(shQuote).join(' ');
}

/** The submission that runs the same job again (what the API shows of it: not its environment). */
export function respec(job) {
  const spec = {};
  if (job.task) {
    spec.task = job.task;
    spec.args = job.args || {};
  } else if (job.shell !== undefined) {
    spec.shell = job.shell;
  } else {
    spec.command = job.command;
  }
  if (!job.task && job.cwd) spec.cwd = job.cwd;
  if (!job.task && job.timeout_ms != null) spec.timeout = `${job.timeout_ms}ms`;
  if (job.stdin === 'pipe') spec.stdin = 'pipe';
  if (job.pty) spec.pty = true;
  if (job.merge) spec.merge = true;
  const labels = Object.fromEntries(Object.entries(job.labels || {}).filter(([k]) => !k.startsWith('corral.')));
  if (Object.keys(labels).length) spec.labels = labels;
  return spec;
}

export function asCorralCommand(job) {
  const spec = respec(job);
  const words = ['corral', 'run'];
  if (spec.cwd) words.push('--cwd', shQuote(spec.cwd));
  if (spec.timeout) words.push('--timeout', spec.timeout);
  if (spec.pty) words.push('--pty');
  if (spec.merge) words.push('--merge');
  if (spec.stdin) words.push('--stdin', 'pipe');
  for (const [k, v] of Object.entries(spec.labels || {})) words.push('--label', shQuote(`${k}=${v}`));
  if (spec.task) {
    words.push('--task', shQuote(spec.task));
    for (const [k, v] of Object.entries(spec.args)) words.push(shQuote(`${k}=${v}`));
  } else if (spec.shell !== undefined) {
    words.push('--shell', shQuote(spec.shell));
  } else {
    words.push('--', ...spec.command.map(shQuote));
  }
  return words.join(' ');
}

export function asCurl(job, origin = location.origin) {
  return `curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ` +
    `${origin}/api/v1/jobs -d ${shQuote(JSON.stringify(respec(job)))}`;
}

/** UTF-8 length of a string without allocating (output cursors count bytes). */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}
