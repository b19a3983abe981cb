// Scenario 6 of the web page (docs/webui.md): corrald stops and starts again on the same state
// directory; the page shows the banner, reconnects, and every open view resumes from its cursor
// with nothing missing and nothing twice. And the fallback: without WebSockets the page follows
// jobs over server-sent events.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Corrald, launchBrowser, openPage, runCommand, terminalText, screenshots, until } from './harness.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

test('6. a restart of corrald: banner, reconnect, resumed view', async () => {
  const daemon = await new Corrald().start();
  try {
    const page = await openPage(browser, daemon);
    const id = await runCommand(page, 'for i in $(seq 1 30); do echo "n=$i"; sleep 0.1; done');
    await until('some lines', async () => (await terminalText(page, id))?.includes('n=5'));
    const port = daemon.port;
    // corrald lets the running job finish (stop_wait) and then exits; the page loses it meanwhile.
    const stopped = daemon.stop();
    await page.waitForSelector('#banner:not([hidden])', { timeout: 20000 });
    assert.match(await page.textContent('#banner'), /Connection to corrald lost/);
    await stopped;
    await screenshots(page, '6-connection-lost');
    await daemon.start(port);
    await page.waitForSelector('#banner', { state: 'hidden', timeout: 30000 });
    const expected = Array.from({ length: 30 }, (_, i) => `n=${i + 1}`).join('\n');
    await until('the whole output, once', async () => (await terminalText(page, id)) === expected, 20000);
    await until('the view to show the job succeeded', async () =>
      (await page.textContent(`#view-${id} .facts .badge`)) === 'succeeded');
    // The new connection carries new jobs as well.
    const next = await runCommand(page, 'echo after the restart');
    await until('the new job\'s output', async () => (await terminalText(page, next)) === 'after the restart');
    await page.waitForSelector(`#job-table [data-id="${next}"]`);
    await screenshots(page, '6-connection-resumed');
    await page.context().close();
  } finally {
    await daemon.cleanup();
  }
});

test('without WebSockets the page falls back to server-sent events', async () => {
  const daemon = await new Corrald().start();
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // A proxy that refuses upgrades, as the page sees it: every WebSocket closes unopened.
    await context.addInitScript(() => {
      window.WebSocket = class extends EventTarget {
        static OPEN = 1;
        constructor() { super(); this.readyState = 3; setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 10); }
        send() {}
        close() {}
      };
    });
    const page = await context.newPage();
    await page.goto(`${daemon.url}/#token=${daemon.token}`);
    await page.waitForSelector('body[data-ready=true]');
    await page.waitForSelector('body[data-live=sse]', { timeout: 20000 });
    const id = await runCommand(page, 'for i in 1 2 3; do echo "sse $i"; sleep 0.2; done');
    await until('the output over SSE', async () => (await terminalText(page, id)) === 'sse 1\nsse 2\nsse 3');
    await page.waitForSelector(`#job-table [data-id="${id}"] .badge.state-succeeded`);
    await context.close();
  } finally {
    await daemon.cleanup();
  }
});
