// Scenarios 3 and 4 of the web page (docs/webui.md): killing a whole tree from the page, and tasks:
// a field error from the server's validation, a parsed result, and a multi-step task's progress.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Corrald, launchBrowser, openPage, runCommand, screenshots, until } from './harness.mjs';

let daemon, browser;
before(async () => { daemon = await new Corrald().start(); browser = await launchBrowser(); });
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
  await page.waitForSelector(`#job-table tr[data-id="${id}"] .badge.state-killed`);
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
  await until('a step done, not all', async () => {
    const v = Number(await progressed.getAttribute('value'));
    return v > 0 && v < 100;
  });
  await screenshots(page, '4-task-progress');
  await page.waitForSelector('.view:not([hidden]) .badge.state-succeeded', { timeout: 20000 });
  await until('all steps listed', async () => (await page.$$('.view:not([hidden]) .steps li')).length === 3);
  assert.equal(await page.getAttribute('.view:not([hidden]) progress', 'value'), '100');
  await page.context().close();
});
