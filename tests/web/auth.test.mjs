// Scenario 7 of the web page (docs/webui.md): with tokens, the login form; a wrong token refused;
// a role without kill rights sees no kill button on another user's job, where an admin sees one.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Corrald, launchBrowser, openPage, screenshots, until } from './harness.mjs';

let daemon, browser;
const viewerToken = randomBytes(24).toString('hex');
before(async () => {
  daemon = new Corrald({
    config: `[auth]\ntokens_file = "tokens"\n` +
      `[auth.roles.admin]\nadmin = true\n` +
      `[auth.roles.viewer]\nsee_all = true\ntasks = ["sleep"]\n`,
  });
  const hash = createHash('sha256').update(viewerToken).digest('hex');
  writeFileSync(join(daemon.dir, 'tokens'), `vera:viewer:sha256:${hash}\n`);
  await daemon.start();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await daemon?.cleanup(); });

test('7. login form, a wrong token refused, no kill button without the right', async () => {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(daemon.url + '/');
  await page.waitForSelector('#login:not([hidden])');
  assert.ok(await page.isHidden('#app'), 'nothing but the login form before a token');
  await screenshots(page, '7-login');

  await page.fill('#token', 'not-a-token');
  await page.press('#token', 'Enter');
  await until('the refusal', async () => (await page.textContent('#login .form-error')) === 'That token was refused.');
  assert.ok(await page.isHidden('#app'));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('corral.token')), 'not-a-token');
  assert.ok(!page.url().includes('token'), 'the token is never in the address');
  await screenshots(page, '7-login-refused');

  const job = await daemon.api('/api/v1/jobs', { method: 'POST', body: { command: ['sleep', '30'] } });
  await page.fill('#token', viewerToken);
  await page.press('#token', 'Enter');
  await page.waitForSelector('body[data-ready=true]');
  assert.equal(await page.textContent('#who'), 'vera (viewer)');
  assert.ok(await page.isHidden('#tab-command'), 'a role without commands gets no command box');
  await page.click(`#job-table [data-id="${job.id}"]`);
  await page.waitForSelector(`#view-${job.id} .badge.state-running`);
  assert.equal(await page.$(`#view-${job.id} button.kill`), null, 'no kill button on another user\'s job');
  assert.equal(await page.$('#queue button'), null, 'no drain button for a non-admin');
  await screenshots(page, '7-viewer-no-kill');

  const admin = await openPage(browser, daemon);
  await admin.click(`#job-table [data-id="${job.id}"]`);
  await admin.waitForSelector(`#view-${job.id} button.kill`);
  await admin.click(`#view-${job.id} button.kill`);
  await page.waitForSelector(`#view-${job.id} .badge.state-killed`, { timeout: 20000 });
  await admin.context().close();

  // A token that stops working sends the page back to the login form, saying why.
  // The page's next call with it (a table reload here; a queue refresh after a job event may come
  // first) gets 401.
  await page.evaluate(() => {
    sessionStorage.setItem('corral.token', 'revoked');
    window.corral?.table.load(false);
  });
  await page.waitForSelector('#login:not([hidden])');
  assert.match(await page.textContent('#login .form-error'), /no longer accepts this token/);
  await context.close();
});
