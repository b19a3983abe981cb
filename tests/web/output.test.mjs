// Scenarios 1, 2, 5 and 8 of the web page (docs/webui.md): live output, ANSI colours, a reload and
// a second tab that show every byte once, and a 10 MiB job that leaves the page responsive.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Corrald, launchBrowser, openPage, runCommand, terminalText, screenshots, until, sleep } from './harness.mjs';

let daemon, browser;
before(async () => { daemon = await new Corrald().start(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await daemon?.cleanup(); });

test('1. a command\'s lines appear while it runs', async () => {
  const page = await openPage(browser, daemon);
  const id = await runCommand(page, 'for i in $(seq 1 15); do echo tick $i; sleep 0.2; done');
  await until('tick 2 on the page', async () => (await terminalText(page, id))?.includes('tick 2'));
  const job = await daemon.api(`/api/v1/jobs/${id}`);
  assert.equal(job.state, 'running', 'the second line showed before the job ended');
  assert.ok(!(await terminalText(page, id)).includes('tick 15'));
  await screenshots(page, '1-live-output');
  await until('the job to end', async () => (await terminalText(page, id)).includes('tick 15'));
  await page.waitForSelector(`#view-${id} .badge.state-succeeded`);
  assert.equal(await page.textContent(`#job-table [data-id="${id}"] .badge`), 'succeeded', 'the table follows the events');
  await page.context().close();
});

test('2. ANSI colours render as colours, stderr apart', async () => {
  const page = await openPage(browser, daemon);
  const id = await runCommand(page, "printf 'plain \\033[32mgreen\\033[0m \\033[1;34mblue\\033[0m\\n'; echo oops >&2");
  await until('the output', async () => (await terminalText(page, id))?.includes('oops'));
  await page.waitForSelector(`#view-${id} .badge.state-succeeded`);
  const colours = await page.evaluate((id) => {
    const spans = [...document.querySelectorAll(`#view-${id} .xterm-rows span`)];
    const colourOf = (text) => {
      const s = spans.find((x) => x.textContent.includes(text));
      return s ? getComputedStyle(s).color : null;
    };
    const row = document.querySelector(`#view-${id} .xterm-rows > div`);
    return { green: colourOf('green'), blue: colourOf('blue'), oops: colourOf('oops'), plain: getComputedStyle(row).color };
  }, id);
  const rgb = (c) => c.match(/\d+/g).map(Number);
  const [gr, gg, gb] = rgb(colours.green);
  assert.ok(gg > gr && gg > gb, `green is green: ${colours.green}`);
  const [br, , bb] = rgb(colours.blue);
  assert.ok(bb > br, `blue is blue: ${colours.blue}`);
  const [or, og, ob] = rgb(colours.oops);
  assert.ok(or > og && or > ob, `stderr is red: ${colours.oops}`);
  assert.notEqual(colours.green, colours.plain);
  await screenshots(page, '2-ansi-colours');
  await page.context().close();
});

test('5. a reload mid-job and a second tab show every line once', async () => {
  const page = await openPage(browser, daemon);
  const id = await runCommand(page, 'for i in $(seq 1 60); do echo "n=$i"; sleep 0.05; done');
  const second = await openPage(browser, daemon);
  await second.click(`#job-table [data-id="${id}"]`);
  await until('a few lines', async () => (await terminalText(page, id))?.includes('n=10'));
  await page.reload();
  await page.waitForSelector('body[data-ready=true]');
  await page.waitForSelector(`#view-${id}:not([hidden]) .badge.state-succeeded`, { timeout: 20000 });
  const expected = Array.from({ length: 60 }, (_, i) => `n=${i + 1}`).join('\n');
  await until('the whole output after the reload', async () => (await terminalText(page, id)) === expected);
  await until('the whole output in the second tab', async () => (await terminalText(second, id)) === expected);
  assert.equal(await terminalText(page, id), await terminalText(second, id));
  await screenshots(page, '5-reload-resumed');
  await page.context().close();
  await second.context().close();
});

test('8. 10 MiB of output: the page stays responsive and search finds the last line', async () => {
  const page = await openPage(browser, daemon);
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
  });
  const id = await runCommand(page, "seq 1 100000 | awk '{printf \"%06d %s\\n\", $1, \"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\"}'");
  await page.waitForSelector(`#view-${id} .badge.state-succeeded`, { timeout: 60000 });
  const last = '100000 abcdefghijklmnopqrstuvwxyz';
  await until('the last line on the page', async () => page.evaluate((id) => {
    const b = window.corral.views.get(id).term.buffer.active;
    for (let i = b.length - 1; i >= Math.max(0, b.length - 5); i--) {
      if (b.getLine(i).translateToString(true).startsWith('100000 ')) return true;
    }
    return false;
  }, id), 60000);
  const whileWriting = await page.evaluate(() => Math.max(0, ...window.longTasks));
  // Scroll up: following pauses; the page still answers.
  await page.hover(`#view-${id} .xterm-screen`);
  await page.mouse.wheel(0, -3000);
  await until('follow to pause', async () => (await page.getAttribute(`#view-${id} .follow`, 'aria-pressed')) === 'false');
  await page.fill(`#view-${id} input[type=search]`, last);
  await page.press(`#view-${id} input[type=search]`, 'Enter');
  await until('the search to find the last line', async () => (await page.textContent(`#view-${id} .search-status`)) === 'found');
  const job = await daemon.api(`/api/v1/jobs/${id}`);
  assert.ok(job.output.bytes > 10 * 1024 * 1024, `the job wrote ${job.output.bytes} bytes`);
  const longest = await page.evaluate(() => Math.max(0, ...window.longTasks));
  console.log(`# 10 MiB job: the longest main-thread task was ${Math.round(whileWriting)} ms until the last line showed, ${Math.round(longest)} ms with the search`);
  await screenshots(page, '8-ten-mebibytes');
  await page.context().close();
});
