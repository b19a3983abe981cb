// Scenarios 3 and 4 of the web page (docs/webui.md): killing a whole tree from the page, and tasks:
// a field error from the server's validation, a parsed result, and a multi-step task's progress.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corrald, launchBrowser, openPage, runCommand, terminalText, screenshots, until } from './harness.mjs';

let daemon, browser;
// Every finished job stays listed (the default keeps the last 100).
before(async () => { daemon = await new Corrald({ jobs: 'max_finished = 5000' }).start(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await daemon?.cleanup(); });

function alive(pid) {
  try { process.kill(pid, 0); } catch (e) { return e.code !== 'ESRCH'; }
  // A zombie has no process left to stop: count it as gone.
  try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}

test('3. kill a running tree, a setsid grandchild included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-kill-'));
  const page = await openPage(browser, daemon);
  const id = await runCommand(page,
    `echo $$ > ${dir}/leader; setsid sh -c 'echo $$ > ${dir}/grand; exec sleep 300' & echo started; sleep 300`);
  await until('both processes', () => existsSync(`${dir}/grand`) && existsSync(`${dir}/leader`) &&
    readFileSync(`${dir}/grand`, 'utf8').trim() !== '');
  const pids = ['leader', 'grand'].map((f) => Number(readFileSync(`${dir}/${f}`, 'utf8')));
  assert.ok(pids.every(alive), 'the tree runs');
  await page.waitForSelector(`#view-${id} .badge.state-running`);
  await screenshots(page, '3-kill-running');
  await page.click(`#view-${id} button.kill`);
  await page.waitForSelector(`#view-${id} .badge.state-killed`, { timeout: 20000 });
  await until('no process of the tree', () => !pids.some(alive));
  assert.equal(await page.$(`#view-${id} button.kill`), null, 'a finished job has no kill button');
  await page.waitForSelector(`#job-table [data-id="${id}"] .badge.state-killed`);
  await screenshots(page, '3-kill-killed');
  await page.context().close();
  rmSync(dir, { recursive: true, force: true });
});

test('4. tasks: a field error, a parsed result, a multi-step task\'s progress', async () => {
  const page = await openPage(browser, daemon);
  await page.click('#tab-task');
  await page.selectOption('#task-name', 'sleep');
  assert.ok(await page.isVisible('label[for=arg-seconds] .required'), 'a required argument is marked');
  await page.fill('#arg-seconds', 'a');
  await page.click('#panel-task button[type=submit]');
  await until('the field error', async () => (await page.textContent('#arg-seconds-error')).includes('must be a number'));
  await screenshots(page, '4-task-field-error');

  await page.selectOption('#task-name', 'facts');
  await page.click('#panel-task button[type=submit]');
  await page.waitForSelector('.view:not([hidden]) .badge.state-succeeded');
  await page.waitForSelector('.view:not([hidden]) .result .json-tree');
  const tree = await page.textContent('.view:not([hidden]) .result');
  assert.match(tree, /kernel: "Linux"/);
  assert.match(tree, /ok: true/);
  assert.match(tree, /tags: \[2\]/);
  await screenshots(page, '4-task-result');

  await page.selectOption('#task-name', 'pipeline');
  await page.click('#panel-task button[type=submit]');
  const progressed = await page.waitForSelector('.view:not([hidden]) progress');
  await until('a step done, not all (each sleep step takes a second)', async () => {
    const v = Number(await progressed.getAttribute('value'));
    return v > 0 && v < 100;
  });
  await screenshots(page, '4-task-progress');
  // The parent's own badge: its steps' badges (in the list below it) turn green one by one before.
  await page.waitForSelector('.view:not([hidden]) .view-header .badge.state-succeeded', { timeout: 20000 });
  await until('all steps listed', async () => (await page.$$('.view:not([hidden]) .steps li')).length === 3);
  assert.equal(await page.getAttribute('.view:not([hidden]) progress', 'value'), '100');
  await page.context().close();
});

test('actions: stdin, re-run, copy as a command line, drain and resume', async () => {
  const page = await openPage(browser, daemon);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.url });
  await page.click('#panel-command summary');
  await page.check('input[name=stdin]');
  const id = await runCommand(page, 'cat');
  await page.waitForSelector(`#view-${id} .badge.state-running`);
  await page.fill(`#view-${id} .stdin input[type=text]`, 'hello from the page');
  await page.check(`#view-${id} .stdin input[type=checkbox]`);
  await page.click(`#view-${id} .stdin button[type=submit]`);
  await until('cat to echo the line', async () => (await terminalText(page, id)) === 'hello from the page');
  await page.waitForSelector(`#view-${id} .badge.state-succeeded`);

  await page.click(`#view-${id} button:has-text("Copy as corral")`);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'corral run --stdin pipe --shell cat');
  await page.click(`#view-${id} button:has-text("Copy as curl")`);
  assert.match(await page.evaluate(() => navigator.clipboard.readText()),
    /^curl -H "Authorization: Bearer \$TOKEN" .*\/api\/v1\/jobs -d '\{"shell":"cat","stdin":"pipe"\}'$/);

  // Re-run: the same spec, a new job.
  const again = await page.waitForFunction(() => true);
  await page.click(`#view-${id} button:has-text("Re-run")`);
  const rerun = Number((await (await page.waitForFunction((id) => {
    const v = document.querySelector('.view:not([hidden])');
    return v && v.id !== `view-${id}` ? v.id : null;
  }, id)).jsonValue()).slice('view-'.length));
  await again.dispose();
  const job = await daemon.api(`/api/v1/jobs/${rerun}`);
  assert.equal(job.shell, 'cat');
  assert.equal(job.stdin, 'pipe');
  await page.click(`#view-${rerun} button.kill`);
  await page.waitForSelector(`#view-${rerun} .badge.state-killed`);

  // Drain and resume, as an admin.
  await page.click('#queue button:has-text("Drain")');
  await page.waitForSelector('#queue .badge.health-draining');
  assert.equal((await daemon.api('/api/v1/queue')).draining, true);
  await page.click('#queue button:has-text("Resume")');
  await until('the queue to resume', async () => !(await daemon.api('/api/v1/queue')).draining);
  await page.waitForSelector('#queue .badge.health-draining', { state: 'detached' });
  await page.context().close();
});

test('a thousand jobs: paged in, filtered, and updated live', async () => {
  const jobs = Array.from({ length: 1000 }, (_, i) => ({ command: ['true'], labels: { batch: i % 2 ? 'odd' : 'even' } }));
  const { ids } = await daemon.api('/api/v1/jobs/batch', { method: 'POST', body: { jobs } });
  assert.equal(ids.length, 1000);
  const page = await openPage(browser, daemon);
  for (let pages = 1; await page.isVisible('#more'); pages++) {
    await page.click('#more');
    await until(`page ${pages + 1}`, async () => (await page.$$('#job-table .rows > [data-id]')).length > pages * 200 ||
      !(await page.isVisible('#more')));
  }
  const rows = await page.$$eval('#job-table .rows > [data-id]', (trs) => trs.map((tr) => Number(tr.dataset.id)));
  assert.ok(rows.length >= 1000, `${rows.length} rows`);
  assert.deepEqual(rows, [...rows].sort((a, b) => b - a), 'newest first, no row twice');
  assert.equal(new Set(rows).size, rows.length);
  await page.fill('#filters input[name=label]', 'batch=odd');
  await page.press('#filters input[name=label]', 'Enter');
  await until('the filtered table', async () => (await page.$$('#job-table .rows > [data-id]')).length === 200);
  assert.ok(await page.isVisible('#more'), 'more pages of odd jobs');
  // A new job that matches the filter appears on top without a reload.
  const added = await daemon.api('/api/v1/jobs', { method: 'POST', body: { command: ['true'], labels: { batch: 'odd' } } });
  await page.waitForSelector(`#job-table .rows > :first-child[data-id="${added.id}"]`);
  await page.context().close();
});

test('a job\'s view shows the jobs it runs after and its attempts', async () => {
  const head = await daemon.api('/api/v1/jobs', { method: 'POST', body: { command: ['sleep', '4'] } });
  const next = await daemon.api('/api/v1/jobs', { method: 'POST',
    body: { command: ['sh', '-c', 'echo try; exit 3'], after: [head.id], retry: { attempts: 2, backoff: '100ms' } } });
  assert.equal(next.state, 'waiting');
  const page = await openPage(browser, daemon);
  await page.click(`#job-table [data-id="${next.id}"]`);
  const view = `#view-${next.id}`;
  await page.waitForSelector(`${view} .badge.state-waiting`);
  await page.waitForSelector(`${view} .chain-list li`);
  assert.match(await page.textContent(`${view} .chain`), new RegExp(`Runs after #${head.id}`));
  await screenshots(page, 'chain-waiting');
  // Its dependency ends, it runs twice and fails: the chain shows the head succeeded, and the
  // attempts list the first one. (The job's own badge is the header's: an attempt's badge in the
  // list below says failed while the job waits for its second attempt.)
  await page.waitForSelector(`${view} .view-header .badge.state-failed`, { timeout: 20000 });
  await page.waitForSelector(`${view} .chain .badge.state-succeeded`);
  await until('the attempts', async () => /attempt 1 failed exited with code 3/.test(await page.textContent(`${view} .attempts`)));
  await until('the last attempt', async () => /attempt 2 of 2/.test(await page.textContent(`${view} .attempts`)));
  await page.click(`${view} .chain button.link`);
  await page.waitForSelector(`#view-${head.id}:not([hidden])`);
  await screenshots(page, 'chain-done');
  await page.context().close();
});
