/**
 * The word stream, the IoT chart and the dice rooms end to end in Debian's chromium
 * (playwright-core, no downloaded browsers), against the demo as `npm start` serves it (default
 * timings: a simulated value every 2 s), but for the word stream, shortened to a word every 200 ms:
 * - `/one/`: the word changes at the configured interval;
 * - `/two/`: the Chart.js chart grows, a reading POSTed to the ingestion API (as `curl` would)
 *   is drawn (latency reported, not asserted: speed goes in bench/), a page opened later draws the recent readings, the window is bounded;
 * - `/game/<room>/`: two players (two browser contexts) take turns until one wins, both pages
 *   show the winner, and a new game starts;
 * - `/`: the home page lists the six systems, each with a sentence, and its links work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, launchChromium, watchScriptErrors } from '@switchboard/test-support';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startDemo, type RunningDemo } from '../../app.js';
import { loadConfig } from '../../config.js';

// The functions passed to page.evaluate / waitForFunction run in chromium. This project compiles
// without the DOM lib (adding it would type Node's globals as the browser's), so declare what they use.
interface PageElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  value: string;
}
declare const document: { getElementById(id: string): PageElement | null; querySelectorAll(selector: string): { length: number } };
declare const window: unknown;
declare const MutationObserver: new (callback: () => void) => { observe(target: PageElement, options: Record<string, boolean>): void };

const skip = chromiumSkip;
const IOT_KEY = 'iot-e2e-test-key-0123456789abcdef';
const PUBLISH_KEY = 'publish-e2e-test-key-0123456789';
/** The word stream's interval in this suite (startDemo's `wordStream`); the default is 2000 ms. */
const WORD_INTERVAL_MS = 200;

/** The Chart.js instance of /two/, as the test reads it in the page. */
interface ChartLines {
  [label: string]: Array<{ x: number; y: number; seq?: number }>;
}

describe('word stream, IoT chart and dice rooms in a browser', { skip }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Uncaught page errors and dialogs, per page. */
  const scriptErrors = new Map<Page, string[]>();

  before(async () => {
    demo = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', SECRET_KEY: 'test-secret-key-0123456789abcdef-0123' }), {
      systems: { iotApiKey: IOT_KEY, gameBoardSize: 20 },
      apiKey: PUBLISH_KEY,
      wordStream: { intervalMs: WORD_INTERVAL_MS },
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** A page in a fresh context (its own guest cookie) on `path`. */
  async function open(path: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const errors = watchScriptErrors(page);
    scriptErrors.set(page, errors);
    const response = await page.goto(new URL(path, demo.url).href);
    assert.equal(response?.status(), 200, path);
    return page;
  }

  function assertNoScriptErrors(): void {
    for (const [page, errors] of scriptErrors) assert.deepEqual(errors, [], `script errors on ${page.url()}`);
  }

  it(`/one/: a new word every ${WORD_INTERVAL_MS} ms, as configured`, async (t) => {
    const page = await open('/one/');
    assert.match((await page.textContent('main .lead')) ?? '', new RegExp(`every ${WORD_INTERVAL_MS} ms \\(100 in all\\)`), 'the page says how often');
    await page.waitForFunction(() => Number(document.getElementById('one')?.dataset['count'] ?? 0) >= 1, undefined, { timeout: 5_000 });
    // Timestamp each change in the page, where the socket delivers it.
    await page.evaluate(() => {
      const target = document.getElementById('one')!;
      const w = window as unknown as { changes: Array<{ at: number; word: string; count: string | undefined }> };
      w.changes = [];
      new MutationObserver(() => w.changes.push({ at: performance.now(), word: target.textContent ?? '', count: target.dataset['count'] })).observe(target, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const first = (await page.textContent('#one')) ?? '';
    assert.match(first, /^[a-z]+$/, 'a word from random-words');
    await page.waitForFunction(() => (window as unknown as { changes: unknown[] }).changes.length >= 2, undefined, { timeout: 5_000, polling: 20 });
    const changes = await page.evaluate(() => (window as unknown as { changes: Array<{ at: number; word: string; count: string | undefined }> }).changes);
    // The observer went in after a word; at this interval another may have come meanwhile.
    const [second, third] = changes;
    assert.match(second!.word, /^[a-z]+$/);
    assert.match(third!.word, /^[a-z]+$/);
    const n = Number(second!.count);
    assert.ok(n >= 2, `the first change observed is word ${second!.count}`);
    assert.equal(third!.count, String(n + 1), 'consecutive words');
    const gapMs = third!.at - second!.at;
    // Reported, not asserted: a busy machine can deliver two words back to back (the interval
    // itself is checked with lower bounds in test/words.test.ts; speed goes in bench/).
    t.diagnostic(`/one/: words ${n} → ${n + 1} arrived ${gapMs.toFixed(0)} ms apart`);
    const shown = /^word (\d+) of 100$/.exec((await page.textContent('#one-status')) ?? '');
    assert.ok(shown && Number(shown[1]) >= n + 1, `status line: ${shown?.[0]}`);
    assertNoScriptErrors();
  });

  /** The chart's lines, by label, read from the Chart.js instance. */
  const chartLines = (page: Page): Promise<ChartLines> =>
    page.evaluate(() => {
      const Chart = (window as unknown as { Chart: { getChart(c: unknown): { data: { datasets: Array<{ label: string; data: Array<{ x: number; y: number; seq?: number }> }> } } | undefined } }).Chart;
      const chart = Chart.getChart(document.getElementById('iot-chart'));
      const lines: Record<string, Array<{ x: number; y: number; seq?: number }>> = {};
      for (const d of chart?.data.datasets ?? []) lines[d.label] = d.data.map((p) => ({ x: p.x, y: p.y, ...(p.seq === undefined ? {} : { seq: p.seq }) }));
      return lines;
    });

  /**
   * Waits until the line `label` has a point with `y === value` (`value` given) or at least
   * `length` points, polling every animation frame; returns its y values.
   */
  async function waitForLine(page: Page, label: string, until: { value?: number; length?: number }, timeout = 1_000): Promise<number[]> {
    const handle = await page.waitForFunction(
      ({ label, value, length }) => {
        type Charts = { getChart(c: unknown): { data: { datasets: Array<{ label: string; data: Array<{ y: number }> }> } } | undefined };
        const chart = (window as unknown as { Chart: Charts }).Chart.getChart(document.getElementById('iot-chart'));
        const line = chart?.data.datasets.find((d) => d.label === label);
        if (!line) return false;
        const ok = value !== undefined ? line.data.some((p) => p.y === value) : line.data.length >= (length ?? 0);
        return ok ? line.data.map((p) => p.y) : false;
      },
      { label, value: until.value, length: until.length },
      { timeout, polling: 'raf' },
    );
    return (await handle.jsonValue()) as number[];
  }

  async function postReadings(sensor: string, body: unknown): Promise<void> {
    const res = await fetch(new URL(`api/iot/${sensor}/readings`, demo.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${IOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
  }

  it('/two/: the chart grows, and a POSTed reading is drawn on its line (latency reported, not asserted)', async (t) => {
    const page = await open('/two/?sensors=e2e-a,e2e-b');
    await page.waitForFunction(() => (document.getElementById('iot-status')?.textContent ?? '').split('live').length - 1 === 3, undefined, { timeout: 5_000 });
    assert.deepEqual(Object.keys(await chartLines(page)), ['simulated', 'e2e-a', 'e2e-b'], 'one line per sensor, plus the seed\'s');

    // The seed's simulated sensor: a value at once, then one every 2 s.
    await page.waitForFunction(() => Number(document.getElementById('iot')?.dataset['points'] ?? 0) >= 1, undefined, { timeout: 5_000 });
    const before = (await chartLines(page))['simulated']!.length;
    await page.waitForFunction((n) => Number(document.getElementById('iot')?.dataset['points'] ?? 0) > n, before, { timeout: 4_000, polling: 50 });
    const simulated = (await chartLines(page))['simulated']!;
    assert.ok(simulated.length > before, 'the simulated line grew');
    for (const p of simulated) assert.ok(Number.isInteger(p.y) && p.y >= 0 && p.y <= 100);

    // A reading POSTed as curl would: drawn on its sensor's line, measured from before the POST.
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const value = 1000 + i;
      const started = performance.now();
      const drawn = waitForLine(page, 'e2e-a', { value });
      await postReadings('e2e-a', { value });
      await drawn;
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(`/two/: POST → point on the chart: median ${latencies[2]!.toFixed(0)} ms, max ${latencies[4]!.toFixed(0)} ms (5 readings)`);
    const lines = await chartLines(page);
    assert.deepEqual(lines['e2e-a']!.map((p) => p.y), [1000, 1001, 1002, 1003, 1004]);
    assert.deepEqual(lines['e2e-b'], [], 'the other sensor\'s line is untouched');

    // Readings with their own timestamps land in time order on the time axis.
    const t0 = Date.now() - 60_000;
    await postReadings('e2e-b', [
      { value: 2, ts: new Date(t0 + 2_000).toISOString() },
      { value: 1, ts: new Date(t0 + 1_000).toISOString() },
    ]);
    assert.deepEqual(await waitForLine(page, 'e2e-b', { length: 2 }), [1, 2]);

    // A page opened now draws the recent readings first (the history frame).
    const late = await open('/two/?sensors=e2e-a');
    assert.deepEqual(await waitForLine(late, 'e2e-a', { length: 5 }, 5_000), [1000, 1001, 1002, 1003, 1004]);

    // The window is bounded: 250 readings in one batch leave the last 200 on the line.
    const start = Date.now() - 250_000;
    await postReadings('e2e-a', Array.from({ length: 250 }, (_, i) => ({ value: i, ts: new Date(start + i * 1000).toISOString() })));
    await waitForLine(late, 'e2e-a', { value: 249 }, 2_000);
    const windowed = (await chartLines(late))['e2e-a']!;
    assert.equal(windowed.length, Number(await late.getAttribute('#iot', 'data-window')));
    assert.equal(windowed.length, 200);
    assert.deepEqual(windowed.map((p) => p.x), [...windowed.map((p) => p.x)].sort((x, y) => x - y), 'in time order');
    assertNoScriptErrors();
  });

  /** Game state the page exposes. */
  const gameStatus = (page: Page): Promise<string | null> => page.getAttribute('#game', 'data-game-status');

  it('/game/<room>/: two players take turns until one wins, both see it, and a new game starts', async (t) => {
    const room = `e2e-${Date.now().toString(36)}`;
    const alice = await open(`/game/${room}/`);
    const bob = await open(`/game/${room}/`);
    for (const page of [alice, bob]) await page.waitForSelector('#game[data-state="open"]', { timeout: 5_000 });
    const nameOf = async (page: Page): Promise<string> => /^You are (guest-[a-z0-9]+)\.$/.exec((await page.textContent('#game-you')) ?? '')?.[1] ?? '';
    const [aliceName, bobName] = await Promise.all([alice, bob].map((p) => p.waitForFunction(() => /^You are /.test(document.getElementById('game-you')?.textContent ?? '')).then(() => nameOf(p))));
    assert.ok(aliceName && bobName && aliceName !== bobName, `${aliceName} and ${bobName}`);

    await alice.click('#game-join');
    await bob.waitForFunction(() => document.querySelectorAll('#game-players tbody tr').length === 1);
    await bob.click('#game-join');
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.querySelectorAll('#game-players tbody tr').length === 2);
      assert.equal(await gameStatus(page), '1');
    }
    // Join order: alice rolls first; bob's button is off.
    await alice.waitForSelector('#game-roll:enabled');
    assert.equal(await bob.isDisabled('#game-roll'), true);
    assert.match((await bob.textContent('#game-turn')) ?? '', new RegExp(`Waiting for ${aliceName} to roll`));

    let rolls = 0;
    for (; rolls < 60; rolls++) {
      const mover = rolls % 2 === 0 ? alice : bob;
      const other = mover === alice ? bob : alice;
      await mover.waitForSelector('#game-roll:enabled', { timeout: 5_000 });
      assert.equal(await other.isDisabled('#game-roll'), true, 'only the player whose turn it is can roll');
      const logLines = (await other.inputValue('#game-log')).split('\n').length;
      await mover.click('#game-roll');
      // Both pages hear of the roll.
      await other.waitForFunction((n) => document.getElementById('game-log')!.value.split('\n').length > n, logLines, { timeout: 5_000 });
      // The mover's page has the new state: its turn is over (or the game is).
      await mover.waitForSelector('#game-roll:disabled', { timeout: 5_000 });
      if ((await gameStatus(mover)) === '0') break;
    }
    rolls++;
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.getElementById('game')?.dataset['gameStatus'] === '0', undefined, { timeout: 5_000 });
    }
    const winnerLine = (await alice.textContent('#game-turn')) ?? '';
    const winnerName = /^Game over: (guest-[a-z0-9]+) won\./.exec(winnerLine)?.[1];
    assert.ok(winnerName === aliceName || winnerName === bobName, winnerLine);
    assert.match((await bob.textContent('#game-turn')) ?? '', new RegExp(`^Game over: ${winnerName} won\\.`));
    for (const page of [alice, bob]) {
      assert.match(await page.inputValue('#game-log'), new RegExp(`${winnerName} wins`));
      assert.equal(await page.isDisabled('#game-roll'), true, 'no rolls once the game is over');
      // The winner's row shows the last square.
      const squares = await page.$$eval('#game-players tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      assert.ok(squares.includes('20 / 20'), squares.join(', '));
    }
    t.diagnostic(`/game/: ${winnerName} won after ${rolls} rolls`);

    // A new game: same players, back to square 0, alice first again.
    await bob.click('#game-new');
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.getElementById('game')?.dataset['gameStatus'] === '1', undefined, { timeout: 5_000 });
      assert.match(await page.inputValue('#game-log'), new RegExp(`game 2 started by ${bobName}`));
      const squares = await page.$$eval('#game-players tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
      assert.deepEqual(squares, ['0 / 20', '0 / 20']);
    }
    await alice.waitForSelector('#game-roll:enabled');
    assertNoScriptErrors();
  });

  it('/: the home page lists the six systems, each with one sentence, and its links work', async () => {
    const page = await open('/');
    const items = await page.$$eval('ul.systems li', (lis) =>
      lis.map((li) => ({
        name: (li.querySelector('a, .name')?.textContent ?? '').trim(),
        href: li.querySelector('a')?.getAttribute('href') ?? null,
        summary: (li.querySelector('.summary')?.textContent ?? '').trim(),
      })),
    );
    assert.equal(items.length, 6, JSON.stringify(items));
    for (const item of items) {
      assert.ok(item.name.length > 0);
      // One sentence: ends with a full stop, and no other sentence follows.
      assert.match(item.summary, /^[A-Z][^]*\.$/, item.name);
      assert.equal(item.summary.split(/[.!?](\s|$)/).filter((s: string | undefined) => s !== undefined && s.trim() !== '').length, 1, `one sentence for ${item.name}: ${item.summary}`);
    }
    const hrefs = items.map((i) => i.href).filter((h): h is string => h !== null);
    for (const href of ['/one/', '/two/', '/chat/', '/game/']) assert.ok(hrefs.includes(href), `the home page links ${href}`);
    // /users/ and the push page are linked once they are live; whatever is linked must load.
    for (const href of hrefs) {
      const res = await fetch(new URL(href, demo.url));
      assert.equal(res.status, 200, href);
      await res.body?.cancel();
    }
    await page.click('a[href="/game/"]');
    await page.waitForURL(/\/game\/$/);
    await page.fill('#game-room-input', 'from-home');
    await page.click('#game-room-submit');
    await page.waitForURL(/\/game\/from-home\/$/);
    await page.waitForSelector('#game[data-state="open"]');
    assertNoScriptErrors();
  });
});
