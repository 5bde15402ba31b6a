/**
 * `switchboard serve <module>` serves the user's app (Daphne's `module:application`), never the
 * demo: app modules in a temporary project, real sockets, SIGTERM, and the usage errors.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@switchboard/test-support';
import { waitFor } from 'switchboard/testing';
import { connectClient } from '../helpers.js';
import { runCli, stopCli, tempProject, type CliRun, type TempProject } from './cli-process.js';

/** An echo consumer on ws/echo/, shared by the app modules below. */
const CONSUMER = `
import { JsonWebsocketConsumer, ProtocolTypeRouter, URLRouter, path } from 'switchboard';
class Echo extends JsonWebsocketConsumer {
  receiveJson(content) { this.sendJson({ echo: content, from: 'user app' }); }
}
export const router = new URLRouter([path('ws/echo/', Echo)]);
`;

/** Waits for the "serving" line and returns the port it names. */
async function servingPort(run: CliRun, spec: string): Promise<number> {
  const pattern = new RegExp(`^Switchboard serving ${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} on http://127\\.0\\.0\\.1:(\\d+)/$`, 'm');
  await waitFor(() => pattern.test(run.stdout()) || run.child.exitCode !== null, { timeoutMs: 15_000, message: `serving ${spec}` });
  const match = pattern.exec(run.stdout());
  assert.ok(match, `not serving: ${run.stdout()}${run.stderr()}`);
  return Number(match[1]);
}

/** Echo over a real WebSocket: the user's consumer answers. */
async function assertEchoes(port: number): Promise<void> {
  const c = await connectClient(`ws://127.0.0.1:${port}/ws/echo/`);
  c.ws.send(JSON.stringify('hi'));
  await waitFor(() => c.messages.length === 1);
  assert.deepEqual(JSON.parse(c.messages[0]!), { echo: 'hi', from: 'user app' });
  c.ws.close();
  await c.closed;
}

describe('switchboard serve', () => {
  let project: TempProject;
  before(() => {
    project = tempProject();
    project.write('consumer.mjs', CONSUMER);
    project.write('router.mjs', `import { router } from './consumer.mjs';\nexport default router;\n`);
    project.write('named.mjs', `import { router } from './consumer.mjs';\nexport const myApp = router;\n`);
    project.write(
      'factory.mjs',
      `import { ProtocolTypeRouter } from 'switchboard';\nimport { router } from './consumer.mjs';\n` +
        `export default async () => new ProtocolTypeRouter({ http: (req, res) => res.end('user http app'), websocket: router });\n`,
    );
    project.write('nothing.mjs', 'export const notAnApp = 1;\n');
    project.write('number.mjs', 'export default 42;\n');
    project.write('throws.mjs', "throw new Error('the app module broke');\n");
  });
  after(() => project.remove());

  it('serves a module exporting a URLRouter, not the demo, and drains on SIGTERM with exit 0', async () => {
    const run = runCli(['serve', './router.mjs', '--port', '0'], project.dir);
    try {
      const port = await servingPort(run, './router.mjs');
      await assertEchoes(port);
      // No HTTP application: 404, and none of the demo's pages or files.
      const home = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(home.status, 404);
      assert.equal(await home.text(), 'Not Found');
      assert.equal(existsSync(join(project.dir, 'data')), false, 'the demo would have written data/');

      const open = await connectClient(`ws://127.0.0.1:${port}/ws/echo/`);
      run.child.kill('SIGTERM');
      assert.equal((await open.closed).code, 1001);
      assert.equal(await run.exited, 0, run.stderr());
    } finally {
      await stopCli(run);
    }
  });

  it('serves { application, port } with the module\'s port', async () => {
    const port = await freePort();
    project.write('definition.mjs', `import { router } from './consumer.mjs';\nexport default { application: router, port: ${port}, allowedOrigins: ['https://app.example'] };\n`);
    const run = runCli(['serve', './definition.mjs'], project.dir);
    try {
      assert.equal(await servingPort(run, './definition.mjs'), port);
      await assertEchoes(port);
      // The module's server options apply: its allowedOrigins widen the origin check.
      const allowed = await connectClient(`ws://127.0.0.1:${port}/ws/echo/`, { headers: { origin: 'https://app.example' } });
      allowed.ws.close();
      await assert.rejects(connectClient(`ws://127.0.0.1:${port}/ws/echo/`, { headers: { origin: 'https://evil.example' } }), { status: 403 });
    } finally {
      await stopCli(run);
    }
  });

  it('serves what a factory function returns, and a named export with module:name', async () => {
    const factory = runCli(['serve', './factory.mjs', '--port', '0'], project.dir);
    const named = runCli(['serve', './named.mjs:myApp', '--port', '0'], project.dir);
    try {
      const port = await servingPort(factory, './factory.mjs');
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'user http app');
      await assertEchoes(port);
      await assertEchoes(await servingPort(named, './named.mjs:myApp'));
    } finally {
      await Promise.all([stopCli(factory), stopCli(named)]);
    }
  });

  const usageErrors: Array<[string, string[], number, RegExp]> = [
    ['a missing module', ['serve', './missing.mjs'], 2, /cannot find the app module "\.\/missing\.mjs"/],
    ['a module without a usable export', ['serve', './nothing.mjs'], 2, /"\.\/nothing\.mjs" has no export "application" \(it exports notAnApp\)/],
    ['a module whose export is not an application', ['serve', './number.mjs'], 2, /\.\/number\.mjs:default is not an application/],
    ['a named export that does not exist', ['serve', './named.mjs:other'], 2, /has no export "other" \(it exports myApp\)/],
    ['a module that throws while loading', ['serve', './throws.mjs'], 1, /threw while loading: Error: the app module broke/],
    ['a bad --port', ['serve', './router.mjs', '--port', 'eighty'], 2, /--port must be a whole number/],
  ];
  for (const [what, args, code, message] of usageErrors) {
    it(`exits ${code} for ${what}`, async () => {
      const run = runCli(args, project.dir);
      assert.equal(await run.exited, code, run.stderr());
      assert.match(run.stderr(), message);
      assert.doesNotMatch(run.stdout(), /Switchboard serving/);
    });
  }

  it('exits 1 naming the port when it is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = runCli(['serve', './router.mjs', '--port', String(port)], project.dir);
      assert.equal(await run.exited, 1, run.stderr());
      assert.match(run.stderr(), new RegExp(`127\\.0\\.0\\.1:${port} is already in use; stop the other process or pick another --port`));
    } finally {
      blocker.close();
    }
  });
});
