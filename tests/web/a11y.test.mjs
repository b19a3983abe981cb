// Scenario 9 of the web page (docs/webui.md): axe-core, injected by the test, reports no serious or
// critical violation on the main views (light and dark, wide and narrow), and the page works from
// the keyboard alone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Corrald, launchBrowser, screenshots, terminalText, until } from './harness.mjs';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../../web/package.json'));
const axePath = require.resolve('axe-core/axe.min.js');

let daemon, browser;
before(async () => { daemon = await new Corrald().start(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await daemon?.cleanup(); });

async function audit(page, what) {
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`), [],
    `${what}: serious or critical accessibility violations`);
}

test('9. no serious or critical axe violation; usable from the keyboard', async () => {
  // The test injects axe-core as a script; the page's CSP rightly forbids that, so it is bypassed here only.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  await context.addInitScript({ path: axePath });
  const page = await context.newPage();
  await page.goto(daemon.url + '/');
  await page.waitForSelector('#login:not([hidden])');
  await audit(page, 'the login form');
  // Keyboard only: the token field has focus; type, Enter.
  await page.keyboard.type(daemon.token);
  await page.keyboard.press('Enter');
  await page.waitForSelector('body[data-ready=true]');
  // Tab from the skip link to the command box, type, Enter runs.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  let guard = 0;
  while (await page.evaluate(() => document.activeElement.id) !== 'command' && guard++ < 20) await page.keyboard.press('Tab');
  await page.keyboard.type('echo from the keyboard');
  await page.keyboard.press('Enter');
  const id = await (await page.waitForFunction(() => document.querySelector('.view:not([hidden])')?.id)).jsonValue();
  const job = Number(id.slice('view-'.length));
  await until('the output', async () => (await terminalText(page, job)) === 'from the keyboard');
  await page.waitForSelector(`#${id} .badge.state-succeeded`);
  // ↑ recalls the command from the history.
  await page.focus('#command');
  await page.keyboard.press('ArrowUp');
  assert.equal(await page.inputValue('#command'), 'echo from the keyboard');
  // A job row opens with Enter.
  await page.focus(`#job-table [data-id="${job}"]`);
  await page.keyboard.press('Enter');
  for (const scheme of ['light', 'dark']) {
    for (const width of [1440, 400]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      await audit(page, `the main view, ${scheme}, ${width} px`);
    }
  }
  await page.click('#tab-task');
  await audit(page, 'the task form');
  await page.setViewportSize({ width: 1440, height: 900 });
  await screenshots(page, '9-task-form');
  await context.close();
});
