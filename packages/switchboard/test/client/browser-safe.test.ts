/**
 * The client SDK stays browser-safe: no module in the graph of src/client/index.ts imports a Node
 * built-in (esbuild, platform `browser`, no externals, reads the whole graph), and the `.d.ts`
 * that `switchboard/client` ships type-check with lib DOM and no `@types/node`, as in a web app.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';

/** packages/switchboard, from dist/test/client/. */
const PACKAGE_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The modules esbuild bundles for the browser from `entry`, or the build's errors. */
async function browserGraph(entry: string): Promise<{ inputs: string[]; errors: string[] }> {
  try {
    const result = await build({ absWorkingDir: PACKAGE_DIR, entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    return { inputs: Object.keys(result.metafile.inputs), errors: [] };
  } catch (err) {
    return { inputs: [], errors: ((err as { errors?: Array<{ text: string }> }).errors ?? [{ text: String(err) }]).map((e) => e.text) };
  }
}

describe('client SDK (switchboard/client) in the browser', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-client-types-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles for the browser with no Node built-in anywhere in its module graph', async () => {
    const { inputs, errors } = await browserGraph('src/client/index.ts');
    assert.deepEqual(errors, []);
    assert.ok(inputs.includes('src/client/socket.ts'), inputs.join(', '));
    const node = inputs.filter((input) => BUILTINS.has(input) || input.startsWith('node:'));
    assert.deepEqual(node, [], `Node modules in the client's graph: ${inputs.join(', ')}`);
    assert.deepEqual(inputs.filter((input) => !input.startsWith('src/')), [], 'the SDK bundles nothing from node_modules');
  });

  it('would report a module of the graph that imports node:*', async () => {
    const entry = join(dir, 'leaky.ts');
    await writeFile(entry, "import { EventEmitter } from 'node:events';\nexport { SwitchboardSocket } from '" + join(PACKAGE_DIR, 'src/client/index.ts') + "';\nexport const e = new EventEmitter();\n");
    const { errors } = await browserGraph(entry);
    assert.ok(errors.some((e) => e.includes('node:events')), errors.join('\n'));
  });

  it('ships declarations that type-check with lib DOM and no @types/node', async () => {
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(PACKAGE_DIR, join(dir, 'node_modules', 'switchboard'), 'dir');
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], types: [], noEmit: true, skipLibCheck: false }, files: ['page.ts'] }),
    );
    await writeFile(
      join(dir, 'page.ts'),
      `import { SwitchboardSocket, CloseCode, type WebSocketConstructor } from 'switchboard/client';
const impl: WebSocketConstructor = WebSocket; // the DOM's WebSocket fits
const socket = new SwitchboardSocket(location.origin.replace('http', 'ws') + '/ws/chat/lobby/', { maxAttempts: 5, WebSocketImpl: impl });
socket.on('message', (m: unknown) => document.title = String(m));
socket.on('close', (c) => { const next: number | undefined = c.willReconnect ? c.delayMs : undefined; void next; });
socket.on('giveup', (g) => { const n: number = g.attempts; const s: number | undefined = g.status; void n; void s; });
socket.on('error', (e) => { const opened: boolean = e.opened; void opened; });
socket.sendJson({ message: 'hi' });
if (socket.state === 'closed') socket.close(CloseCode.NORMAL);
// @ts-expect-error not an event: proves the declarations are typed, not any
socket.on('nope', () => {});
`,
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(
      () => ({ code: 0, out: '' }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    assert.deepEqual(result, { code: 0, out: '' });
  });
});
