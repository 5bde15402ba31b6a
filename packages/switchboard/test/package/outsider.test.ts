/**
 * Switchboard as an outsider uses it (issue 8): `npm pack` the framework, install the tarball in
 * a fresh project outside the repository, compile a strict TypeScript app against it (and the
 * package README's examples), serve it with `npx switchboard serve`, and talk to it with the
 * client SDK in Node and in chromium. The installed tree must hold none of the demo's
 * dependencies. Prints the installed package count and size of the framework alone.
 *
 * Needs the npm registry (the local cache makes it quick); skipped when it is unreachable,
 * unless REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromiumSkip, connectClient, handshakeStatus, launchChromium, REQUIRE_SERVICES, type Page } from '@switchboard/test-support';
import { waitFor } from 'switchboard/testing';
import { directoryBytes, enclosingProject, installedPackages, run, runOk, startServer, type ProjectServer } from './outsider-project.js';

/** packages/switchboard, from dist/test/package/. */
const PACKAGE_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const REPOSITORY = join(PACKAGE_DIR, '..', '..');
const FIXTURE = join(PACKAGE_DIR, 'test', 'package', 'outsider-app');

/** The demo's dependencies (apps/demo/package.json) that the framework must not bring. */
const DEMO_ONLY = ['fastify', 'better-sqlite3', 'pg', 'kysely', 'eta', 'chart.js', 'chartjs-adapter-date-fns', 'date-fns', 'random-words', 'ajv'];
/** Optional peer dependencies: installed only by a user who needs their subpath. */
const OPTIONAL_PEERS = ['ioredis', 'prom-client', 'pino-pretty'];

const registryUp = (await run('npm', ['ping'], tmpdir(), 20_000)).code === 0;
if (!registryUp && REQUIRE_SERVICES) throw new Error('the npm registry is unreachable (npm ping failed) and REQUIRE_SERVICES=1');
const skip = registryUp ? false : 'the npm registry is unreachable (npm ping failed); the outsider test installs from it';

/** Fenced ```ts blocks of a Markdown file. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('switchboard installed from its tarball into an empty project', { skip }, () => {
  let tmp: string;
  let project: string;
  let tarball: string;
  let packedFiles: string[];
  let frameworkAlone: { packages: string[]; bytes: number };
  let cli: ProjectServer | undefined;
  let plain: ProjectServer | undefined;

  before(
    async () => {
      tmp = await mkdtemp(join(tmpdir(), 'switchboard-outsider-'));
      project = join(tmp, 'app');
      // `--ignore-scripts`: no prepack build here, the suite has just built dist/ and other test
      // files are reading it while this one runs.
      const pack = await runOk('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], PACKAGE_DIR);
      const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      tarball = join(tmp, packed!.filename);
      packedFiles = packed!.files.map((f) => f.path).sort();

      await cp(FIXTURE, project, { recursive: true });
      await runOk('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], project);
      frameworkAlone = { packages: await installedPackages(project), bytes: await directoryBytes(join(project, 'node_modules')) };
      console.log(`# switchboard alone: ${frameworkAlone.packages.length} packages, ${(frameworkAlone.bytes / 1e6).toFixed(1)} MB in node_modules (${frameworkAlone.packages.join(', ')})`);

      // No @types/ws: switchboard's .d.ts files use ws's types, so the package brings them.
      await runOk('npm', ['install', '--save-dev', 'typescript@5', '@types/node@20', 'ws@8', 'esbuild', '--no-audit', '--no-fund', '--prefer-offline'], project);
      // The package README's examples, as a user would paste them.
      const [server, browser] = tsBlocks(await readFile(join(project, 'node_modules', 'switchboard', 'README.md'), 'utf8'));
      await writeFile(join(project, 'src', 'readme.ts'), server!);
      await writeFile(join(project, 'src', 'browser', 'readme.ts'), browser!);
      const tsc = join('node_modules', 'typescript', 'bin', 'tsc');
      await runOk(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
      await runOk(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], project);
      await runOk(join('node_modules', '.bin', 'esbuild'), ['src/browser/page.ts', '--bundle', '--platform=browser', '--format=esm', '--metafile=esbuild-meta.json', '--outfile=public/page.js', '--log-level=warning'], project);

      cli = await startServer('npx', ['--no', 'switchboard', 'serve', './dist/app.js', '--port', '0'], project, /Switchboard serving \S+ on (http:\/\/\S+)/);
      plain = await startServer(process.execPath, ['dist/server.js'], project, /listening on (http:\/\/\S+)/);
    },
    { timeout: 600_000 },
  );

  after(async () => {
    await cli?.stop();
    await plain?.stop();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('lives outside the repository, in no enclosing npm project', () => {
    assert.ok(relative(REPOSITORY, project).startsWith('..'), `${project} is outside ${REPOSITORY}`);
    assert.equal(enclosingProject(project), undefined);
  });

  it('packs dist/src (js and d.ts), dist/browser, LICENSE, README.md and package.json, nothing else', () => {
    const other = packedFiles.filter((f) => !/^dist\/src\/.+\.(js|d\.ts)$/.test(f) && !/^dist\/browser\/[^/]+$/.test(f));
    assert.deepEqual(other, ['LICENSE', 'README.md', 'package.json']);
    assert.ok(packedFiles.includes('dist/browser/switchboard-client.js'));
    assert.ok(packedFiles.includes('dist/src/index.d.ts'));
    assert.deepEqual(packedFiles.filter((f) => /(^|\/)(test|bench|demo|apps)\//.test(f)), [], 'no tests, benchmarks or demo');
  });

  it('installs none of the demo\'s dependencies, nor the optional peers', async () => {
    for (const packages of [frameworkAlone.packages, await installedPackages(project)]) {
      const demo = packages.filter((name) => DEMO_ONLY.includes(name) || name.startsWith('@fastify/'));
      assert.deepEqual(demo, []);
    }
    assert.deepEqual(frameworkAlone.packages.filter((name) => OPTIONAL_PEERS.includes(name)), []);
    assert.ok(frameworkAlone.packages.includes('switchboard') && frameworkAlone.packages.includes('ws'), frameworkAlone.packages.join(', '));
  });

  it('bundles `import { SwitchboardSocket } from \'switchboard/client\'` for the browser with no Node module', async () => {
    const meta = JSON.parse(await readFile(join(project, 'esbuild-meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    assert.ok(inputs.some((i) => i.startsWith('node_modules/switchboard/dist/src/client/')), inputs.join(', '));
    assert.deepEqual(inputs.filter((i) => i.startsWith('node:') || !(i.startsWith('src/') || i.startsWith('node_modules/switchboard/'))), []);
  });

  it('serves the app with npx switchboard serve, not the demo', async () => {
    const home = await fetch(cli!.url);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /outsider chat/);
    assert.equal((await fetch(new URL('/api/publish', cli!.url), { method: 'POST' })).status, 404, 'no demo publish endpoint');
    assert.equal(existsSync(join(project, 'data')), false, 'the demo wrote data/ in the working directory');
  });

  it('round-trips chat messages with the client SDK in Node, and a 404 handshake gives up with its status', async () => {
    const result = await run(process.execPath, ['dist/client.js', cli!.wsUrl], project, 30_000);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const out = JSON.parse(result.stdout) as { alice: unknown[]; bob: unknown[]; refused: unknown; errors: string[] };
    const line = { user: 'alice', text: 'hello from Node' };
    assert.deepEqual([out.alice, out.bob], [[line], [line]]);
    assert.deepEqual(out.refused, { attempts: 1, status: 404 });
    assert.deepEqual(out.errors, []);
  });

  it('round-trips chat messages in chromium, with the esbuild bundle and with the prebuilt one', { skip: chromiumSkip }, async () => {
    const browser = await launchChromium();
    try {
      interface PageLog {
        state: string;
        lines: Array<{ user: string; text: string }>;
      }
      const log = (page: Page) => page.evaluate(() => (globalThis as unknown as { outsider: { log: PageLog } }).outsider.log);
      const pages: Page[] = [];
      for (const path of ['/', '/prebuilt.html']) {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(err.message));
        await page.goto(new URL(path, cli!.url).href);
        await waitFor(async () => (await log(page)).state === 'open', { timeoutMs: 10_000, message: `${path}: the socket opened (page errors: ${errors.join('; ')})` });
        pages.push(page);
      }
      for (const [i, page] of pages.entries()) await page.evaluate((text) => (globalThis as unknown as { outsider: { say(t: string): void } }).outsider.say(text), `hello ${i}`);
      const expected = [
        { user: 'esbuild', text: 'hello 0' },
        { user: 'prebuilt', text: 'hello 1' },
      ];
      for (const page of pages) {
        await waitFor(async () => (await log(page)).lines.length === 2, { timeoutMs: 10_000, message: 'both lines reached both pages' });
        assert.deepEqual((await log(page)).lines, expected);
      }
    } finally {
      await browser.close();
    }
  });

  it('logs the stack of a consumer that throws, once, with no logger configured', async () => {
    for (const server of [cli!, plain!]) {
      const client = await connectClient(`${server.wsUrl}/ws/boom/`);
      client.ws.send('{}');
      assert.equal((await client.closed).code, 1011);
      const stackLine = /outsider boom: a bug in a handler.*?at BoomConsumer\.receiveJson \(file:\/\/[^)]*\/dist\/app\.js:\d+:\d+\)/s;
      await waitFor(() => stackLine.test(server.stdout()), { timeoutMs: 5_000, message: 'the stack on the server\'s stdout' }).catch((err: Error) => {
        throw new Error(`${err.message}\n${server.output()}`);
      });
      assert.equal(server.stdout().split('at BoomConsumer.receiveJson').length - 1, 1, 'the stack is logged once');
    }
  });

  it('refuses a foreign Origin with 403, and admits its own origin and clients without one, with no option set', async () => {
    for (const server of [cli!, plain!]) {
      const url = `${server.wsUrl}/ws/chat/lobby/`;
      assert.equal(await handshakeStatus(url, { origin: 'https://evil.example' }), 403);
      assert.equal(await handshakeStatus(url, { origin: new URL(server.url).origin }), 101);
      assert.equal(await handshakeStatus(url), 101);
    }
  });
});
