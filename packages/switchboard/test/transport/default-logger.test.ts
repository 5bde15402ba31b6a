/**
 * Safe defaults: with no logger configured, a handler that throws shows its stack once (pino at
 * `warn`), in a child process whose output is read as a user's terminal would show it.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient } from '../helpers.js';

const FIXTURE = join(import.meta.dirname, 'default-logger-fixture.js');

interface Child {
  child: ChildProcess;
  output: () => string;
  message: Promise<Record<string, unknown>>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

function start(mode: 'server' | 'communicator'): Child {
  const child = fork(FIXTURE, [mode], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, LOG_LEVEL: undefined } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const message = once(child, 'message').then(([m]) => m as Record<string, unknown>);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, message, exited };
}

/** The log lines of `output` that are JSON (pino writes JSON lines when stdout is not a terminal). */
function logLines(output: string): Array<{ level: number; msg: string; err?: { message: string; stack: string } }> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

describe('SwitchboardServer with no logger configured', () => {
  let server: Child;
  let url: string;
  before(async () => {
    server = start('server');
    const { port } = await server.message;
    url = `ws://127.0.0.1:${String(port)}`;
  });
  after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await server.exited;
  });

  it('logs a throwing handler\'s stack once, closes that connection with 1011, and leaves the others alone', async () => {
    const victim = await connectClient(`${url}/ws/echo/`);
    const bystander = await connectClient(`${url}/ws/echo/`);
    victim.ws.send(JSON.stringify({ boom: true }));
    assert.equal((await victim.closed).code, CloseCode.INTERNAL_ERROR);
    bystander.ws.send(JSON.stringify('still here'));
    await waitFor(() => bystander.messages.length === 1);
    assert.deepEqual(JSON.parse(bystander.messages[0]!), { echo: 'still here' });

    await waitFor(() => server.output().includes('handler exploded on purpose'), { message: 'the error reaches the output' });
    const errors = logLines(server.output()).filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, `one error line: ${server.output()}`);
    assert.match(errors[0]!.msg, /EchoConsumer handler threw; closing the connection with 1011/);
    assert.match(errors[0]!.err!.stack, /^Error: handler exploded on purpose\n\s+at EchoConsumer\.receiveJson .*default-logger-fixture\.js/);
    assert.equal(server.output().split('at EchoConsumer.receiveJson').length - 1, 1, 'the stack appears once');
    // Access logs are `info`: below the default level.
    assert.ok(!server.output().includes('WebSocket CONNECT'), 'no access log by default');
    bystander.ws.close();
    await bystander.closed;
  });

  it('drains and exits on SIGTERM', async () => {
    const open = await connectClient(`${url}/ws/echo/`);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.equal((await open.closed).code, CloseCode.GOING_AWAY);
  });
});

describe('WebsocketCommunicator with no logger configured', () => {
  it('logs a throwing handler\'s stack and makes the next receiveJson() reject with it', async () => {
    const run = start('communicator');
    const message = await run.message;
    assert.equal(await run.exited, 0, run.output());
    assert.deepEqual(message, { rejected: 'ConsumerFailedError: handler exploded on purpose', code: 1011 });
    const errors = logLines(run.output()).filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, run.output());
    assert.match(errors[0]!.err!.stack, /^Error: handler exploded on purpose\n\s+at EchoConsumer\.receiveJson/);
  });
});
