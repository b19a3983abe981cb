// Scenario 10 of the web page (docs/webui.md): services beside the jobs. The page lists corrald's
// services with their state, stops, starts and restarts one, opens its current run's output, and
// shows why a crashing one was given up, shows one added at run time from the live stream; a role
// that does not see services gets no panel.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Corrald, launchBrowser, openPage, terminalText, screenshots, until } from './harness.mjs';

let daemon, browser;
before(async () => {
  daemon = new Corrald({
    config: `
[[service]]
name = "greeter"
description = "says hello and echoes what it is sent"
command = ["sh", "-c", "echo hello from the service; exec cat"]
[[service]]
name = "crashy"
command = ["sh", "-c", "echo boom; exit 3"]
backoff = "50ms"
give_up_after = 2
[auth]
tokens_file = "TOKENS"
[auth.roles.user]
commands = true
[auth.roles.admin]
admin = true
`,
  });
  // A token for a role that may not see services: sha256 of the token, as corrald hash-token makes.
  const tokens = join(daemon.dir, 'tokens');
  writeFileSync(tokens, `alice:user:sha256:${createHash('sha256').update('alice-secret').digest('hex')}\n`);
  writeFileSync(daemon.config, (await import('node:fs')).readFileSync(daemon.config, 'utf8').replace('TOKENS', tokens));
  await daemon.start();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await daemon?.cleanup(); });

const state = (page, name) => page.textContent(`[data-service="${name}"] .badge`);

test('10. services: state, stop, start, output, a given-up service', async () => {
  const page = await openPage(browser, daemon);
  await page.waitForSelector('[data-service="greeter"] .badge.svc-state-running');
  await until('crashy given up', async () => (await state(page, 'crashy')) === 'failed', 20000);
  assert.match(await page.textContent('[data-service="crashy"] .service-reason'), /gave up after 2 restarts/);
  await screenshots(page, '10-services');

  await page.click('[data-service="greeter"] .svc-output');
  const job = await page.evaluate(() => window.corral.active);
  await until('the service output', async () => ((await terminalText(page, job)) || '').includes('hello from the service'));

  await page.click('[data-service="greeter"] .svc-stop');
  await page.waitForSelector('[data-service="greeter"] .badge.svc-state-stopped', { timeout: 20000 });
  await page.click('[data-service="greeter"] .svc-start');
  await page.waitForSelector('[data-service="greeter"] .badge.svc-state-running', { timeout: 20000 });

  // A service added while the page is open shows at once. It does not start (autostart = false),
  // so no job event of a run tells the page: only the service's own "added" event on the live
  // stream does (and nothing polls: no service is between states once the refreshes that followed
  // greeter's start have settled).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await daemon.api('/api/v1/services', { method: 'POST', body: { name: 'late', autostart: false, command: ['sleep', '60'] } });
  await page.waitForSelector('[data-service="late"] .badge.svc-state-stopped', { timeout: 10000 });
  await page.context().close();
});

test('10. a role without see_all gets no services panel', async () => {
  const page = await openPage(browser, daemon, { token: 'alice-secret' });
  await page.waitForSelector('#jobs');
  await until('the panel hidden', async () => page.evaluate(() => document.querySelector('.services').hidden));
  await page.context().close();
});
