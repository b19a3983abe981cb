// What every browser test needs: a real corrald (its own state directory and config, on a free
// loopback port) and Debian's chromium driven by playwright-core. No mocks: the page talks to the
// daemon as a user's would.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

export const corraldPath = process.env.CORRALD || join(here, '../../build/release/apps/corrald/corrald');
export const outDir = process.env.CORRAL_WEB_OUT || join(here, '../../build/release/webui-test-output');
mkdirSync(outDir, { recursive: true });

/** The tasks the scenarios use: a validated argument, a parsed result, and steps. */
export const TASKS = `
[[task]]
name = "sleep"
description = "Sleeps for a number of seconds"
command = ["sleep"]
[[task.args]]
name = "seconds"
type = "float"
required = true
min = 0
max = 3600

[[task]]
name = "facts"
description = "A JSON document about the machine"
command = ["sh", "-c", "printf '{\\"kernel\\": \\"%s\\", \\"cores\\": %s, \\"ok\\": true, \\"tags\\": [\\"a\\", \\"b\\"]}' \\"$(uname -s)\\" \\"$(nproc)\\""]
result = "json"

[[task]]
name = "pipeline"
description = "Three steps, one after another"
steps = [{task = "sleep", args = {seconds = 1}}, {task = "facts"}, {task = "sleep", args = {seconds = 1}}]
`;

export class Corrald {
  /** `jobs`: more lines for the [jobs] section; `config`: more sections. */
  constructor({ config = '', jobs = '', tasks = TASKS, dir } = {}) {
    this.dir = dir || mkdtempSync(join(tmpdir(), 'corral-web-'));
    this.config = join(this.dir, 'corral.toml');
    writeFileSync(this.config, `[pod]\nstate_dir = "${this.dir}/state"\n[jobs]\nconcurrency = 4\n${jobs}\n` +
      `[[http]]\nlabel = "web"\nlisten = "127.0.0.1:${this.port ?? 0}"\n${config}\n${tasks}\n`);
    this.extraConfig = config;
    this.tasks = tasks;
  }

  async start(port = 0) {
    if (port) {
      writeFileSync(this.config, readFileSync(this.config, 'utf8').replace(/listen = "127\.0\.0\.1:\d+"/, `listen = "127.0.0.1:${port}"`));
    }
    this.log = '';
    this.proc = spawn(corraldPath, ['run', '-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`corrald did not start:\n${this.log}`)), 15000);
      const onData = (chunk) => {
        this.log += chunk;
        const m = /\(web\) started: http:\/\/127\.0\.0\.1:(\d+)/.exec(this.log);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      };
      this.proc.stderr.on('data', onData);
      this.proc.stdout.on('data', (c) => { this.log += c; });
      this.proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`corrald exited (${code}):\n${this.log}`)); });
    });
    this.port = await started;
    this.url = `http://127.0.0.1:${this.port}`;
    this.token = readFileSync(join(this.dir, 'state', 'admin.token'), 'utf8').trim();
    return this;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }

  async api(path, { method = 'GET', body, token = this.token } = {}) {
    const res = await fetch(this.url + path, {
      method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  async cleanup() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** A page logged in through corrald's own link (`#token=`), ready when the app says so. */
export async function openPage(browser, daemon, { width = 1440, height = 900, scheme = 'light', token = daemon.token } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
  const page = await context.newPage();
  page.on('pageerror', (e) => { page.errors = [...(page.errors || []), e]; });
  await page.goto(`${daemon.url}/#token=${token}`);
  await page.waitForSelector('body[data-ready=true]');
  return page;
}

/**
 * Saves screenshots of the page under the test output directory: light and dark, 1440 and 400 px
 * wide (`NAME-light-1440.png`, ...). The page is left as it was.
 */
export async function screenshots(page, name) {
  const files = [];
  const size = page.viewportSize();
  for (const width of [1440, 400]) {
    await page.setViewportSize({ width, height: width === 400 ? 860 : 900 });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      const file = join(outDir, `${name}-${scheme}-${width}.png`);
      await page.screenshot({ path: file, fullPage: width === 400 }); // a phone scrolls: show it all
      files.push(file);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(size);
  return files;
}

/** The text of a job view's terminal, whole (every line in its buffer, not only those on screen). */
export async function terminalText(page, id) {
  return page.evaluate((id) => {
    const view = window.corral?.views.get(id);
    if (!view || !view.term) return null;
    const b = view.term.buffer.active;
    const lines = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }, id);
}

/** Types `line` into the command box and presses Enter; returns the id of the job view it opens. */
export async function runCommand(page, line) {
  const before = await page.$$eval('.view', (views) => views.map((v) => v.id));
  await page.fill('#command', line);
  await page.press('#command', 'Enter');
  const handle = await page.waitForFunction((before) => {
    const v = document.querySelector('.view:not([hidden])');
    return v && !before.includes(v.id) ? v.id : null;
  }, before);
  return Number((await handle.jsonValue()).slice('view-'.length));
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

export async function until(what, fn, timeout = 15000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}
