/**
 * `closeOnSignals`: an app's own entry script drains on the first SIGTERM and exits 0, and a
 * second signal exits 1 without waiting for a `disconnect()` that hangs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from 'switchboard/testing';
import { connectClient } from '../helpers.js';
import { runNode, stopCli, tempProject, type TempProject } from './cli-process.js';

const SCRIPT = (disconnect: string): string => `
import { closeOnSignals, ProtocolTypeRouter, SwitchboardServer, URLRouter, WebsocketConsumer, path } from 'switchboard';
class Room extends WebsocketConsumer {
  async disconnect() { ${disconnect} }
}
const server = new SwitchboardServer(new ProtocolTypeRouter({ websocket: new URLRouter([path('ws/', Room)]) }), { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 60_000 });
const { port } = await server.listen();
closeOnSignals(server, server.logger);
process.stdout.write('port ' + port + '\\n');
`;

describe('closeOnSignals', () => {
  let project: TempProject;
  before(() => {
    project = tempProject();
    project.write('drains.mjs', SCRIPT('await new Promise((resolve) => setTimeout(resolve, 50));'));
    project.write('hangs.mjs', SCRIPT('await new Promise(() => {});'));
  });
  after(() => project.remove());

  /** Starts `script`, opens one WebSocket to it and sends SIGTERM. */
  async function startAndSignal(script: string): Promise<{ run: ReturnType<typeof runNode>; code: Promise<number> }> {
    const run = runNode([script], project.dir);
    const port = await waitFor(() => /port (\d+)/.exec(run.stdout())?.[1], { timeoutMs: 10_000, message: `${script} listening` });
    const client = await connectClient(`ws://127.0.0.1:${port}/ws/`);
    run.child.kill('SIGTERM');
    return { run, code: client.closed.then((c) => c.code) };
  }

  it('closes connections with 1001 on SIGTERM, waits for disconnect(), and exits 0', async () => {
    const { run, code } = await startAndSignal('drains.mjs');
    try {
      assert.equal(await code, 1001);
      assert.equal(await run.exited, 0, run.stderr());
    } finally {
      await stopCli(run);
    }
  });

  it('exits 1 at once on a second signal while a disconnect() hangs', async () => {
    const { run, code } = await startAndSignal('hangs.mjs');
    try {
      assert.equal(await code, 1001);
      // Still running: close() waits for the hanging disconnect() (shutdownTimeoutMs is 60 s).
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(run.child.exitCode, null, 'waiting for disconnect()');
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 1);
      assert.match(run.stderr(), /SIGTERM again: exiting without waiting for connections to close/);
    } finally {
      await stopCli(run);
    }
  });
});
