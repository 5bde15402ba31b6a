/**
 * The code in README.md and docs/guide/ is code a user can paste: every TypeScript block
 * type-checks under `strict` against the built package, without casts, `!` or `any`, and the
 * README's first example runs as written with `switchboard serve`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { connectClient } from '@switchboard/test-support';
import { waitFor } from 'switchboard/testing';
import { checkBlocks, extractBlocks, isCheckedBlock, missingOptionalModule, readBlocks, type BlockProblem, type CodeBlock } from './code-blocks.js';

/** Tests run from the repository root (scripts/run-tests.mjs). */
const ROOT = resolve('.');
const GUIDE = 'docs/guide';

/** The guide's pages, as issue 8 lists them; each must exist. */
const GUIDE_PAGES = [
  'getting-started.md',
  'consumers.md',
  'routing.md',
  'channel-layers.md',
  'auth.md',
  'presence.md',
  'history.md',
  'client.md',
  'testing.md',
  'http-integration.md',
  'deployment.md',
];

/** Fragments allowed in all the docs together: a few, for shapes that are not a module. */
const MAX_UNCHECKED_FRAGMENTS = 4;

const docs = ['README.md', ...readdirSync(join(ROOT, GUIDE)).filter((f) => f.endsWith('.md')).sort().map((f) => `${GUIDE}/${f}`)];
const blocks = readBlocks(ROOT, docs);
const skipped = new Map<CodeBlock, string>();
for (const block of blocks.filter(isCheckedBlock)) {
  const missing = missingOptionalModule(ROOT, block);
  if (missing !== undefined) skipped.set(block, missing);
}
const checked = blocks.filter((b) => isCheckedBlock(b) && !skipped.has(b));

describe('docs code blocks', () => {
  let problems: BlockProblem[] = [];
  before(() => {
    problems = checkBlocks(ROOT, checked);
  });

  it('the guide has every page the README links to', () => {
    for (const page of GUIDE_PAGES) assert.ok(docs.includes(`${GUIDE}/${page}`), `${GUIDE}/${page} is missing`);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const page of GUIDE_PAGES) assert.ok(readme.includes(`${GUIDE}/${page}`), `README.md does not link ${GUIDE}/${page}`);
  });

  for (const doc of docs.filter((d) => blocks.some((b) => b.doc === d && TS(b)))) {
    const own = blocks.filter((b) => b.doc === doc && TS(b));
    const skips = own.filter((b) => skipped.has(b)).map((b) => `${b.doc}:${b.line} (needs ${skipped.get(b)})`);
    it(`${doc}: its ${own.length} TypeScript blocks compile under strict, without casts, ! or any`, (t) => {
      if (skips.length > 0) t.diagnostic(`not checked, optional package not installed: ${skips.join(', ')}`);
      const mine = problems.filter((p) => p.block.doc === doc).map((p) => p.message);
      assert.ok(mine.length === 0, `${mine.length} problem(s):\n${mine.join('\n')}`);
    });
  }

  it(`unchecked fragments (\`\`\`ts no-check) stay rare: at most ${MAX_UNCHECKED_FRAGMENTS}`, () => {
    const fragments = blocks.filter((b) => TS(b) && !isCheckedBlock(b));
    assert.ok(fragments.length <= MAX_UNCHECKED_FRAGMENTS, `no-check blocks: ${fragments.map((b) => `${b.doc}:${b.line}`).join(', ')}`);
  });

  it('the checker fails a wrong event type, a cast and a non-null assertion, at their markdown lines', () => {
    const page = [
      'Text.',
      '',
      '```ts',
      "import { JsonWebsocketConsumer } from 'switchboard';",
      "interface Events { 'chat.message': { text: string } }",
      'class Chat extends JsonWebsocketConsumer<{ room: string }, Events> {',
      '  async go(content: unknown) {',
      "    await this.groupSend('g', { type: 'chat.mesage', text: 'x' });",
      "    const text = content as string;",
      '    return this.groups[0]!.length + text.length;',
      '  }',
      '}',
      'export { Chat };',
      '```',
    ].join('\n');
    const found = checkBlocks(ROOT, extractBlocks('docs/guide/example.md', page)).map((p) => p.message);
    assert.ok(found.some((m) => m.startsWith('docs/guide/example.md:8: TS')), found.join('\n'));
    assert.ok(found.some((m) => m.startsWith('docs/guide/example.md:9: a cast')), found.join('\n'));
    assert.ok(found.some((m) => m.startsWith('docs/guide/example.md:10: a non-null assertion')), found.join('\n'));
  });
});

function TS(block: CodeBlock): boolean {
  return block.lang === 'ts' || block.lang === 'typescript';
}

describe("README's first example", () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-readme-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written: switchboard serve, two clients in a room, a bad message answered', async () => {
    const first = blocks.find((b) => b.doc === 'README.md' && isCheckedBlock(b));
    assert.ok(first, 'README.md has no TypeScript block');
    const js = ts.transpileModule(first.code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(dir, 'app.js'), js);
    // What `npx switchboard` runs: the package's `bin`.
    const pkg: { bin: { switchboard: string } } = JSON.parse(readFileSync(join(ROOT, 'node_modules/switchboard/package.json'), 'utf8'));
    const server = spawn(process.execPath, [join(ROOT, 'node_modules/switchboard', pkg.bin.switchboard), 'serve', './app.js', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const port = await waitFor(() => /serving .* on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1], { timeoutMs: 10_000, message: 'switchboard serve printed its address' });
      const url = `ws://127.0.0.1:${port}/ws/chat/lobby/`;
      const [ada, bob] = await Promise.all([connectClient(url), connectClient(url)]);
      ada.ws.send(JSON.stringify({ text: 'hello' }));
      await waitFor(() => ada.messages.length === 1 && bob.messages.length === 1, { message: 'both members got the message' });
      for (const client of [ada, bob]) {
        const got: unknown = JSON.parse(client.messages[0] ?? '');
        assert.ok(typeof got === 'object' && got !== null && 'text' in got && got.text === 'hello', client.messages[0]);
      }
      bob.ws.send(JSON.stringify({ txt: 'typo' }));
      await waitFor(() => bob.messages.length === 2, { message: 'bob got an answer to the bad message' });
      assert.match(bob.messages[1] ?? '', /"type":"error".*SB_ERR_BAD_REQUEST/);
      assert.equal(ada.messages.length, 1, 'the bad message reached nobody');
      ada.ws.close();
      bob.ws.close();
      await Promise.all([ada.closed, bob.closed]);
    } finally {
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await once(server, 'exit');
      }
    }
    assert.equal(server.exitCode, 0, `switchboard serve exits 0 on SIGTERM; its output:\n${output}`);
  });
});
