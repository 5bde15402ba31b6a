/**
 * `switchboard send` as a separate process (seed 002's `send_message`): through a running server's
 * publish API (in-memory layer), through Redis (CHANNEL_LAYER_URL), and its usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { getChannelLayer, InMemoryChannelLayer, ProtocolTypeRouter, SwitchboardServer, type ChannelLayer } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { registerPublishApi } from '../../demo/api/publish.js';
import { createWebsocketApplication } from '../../demo/routing.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
const SEND_SCRIPT = join(ROOT, 'scripts/send.mjs');
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const KEY = 'cli-test-key-0123456789abcdef';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a node script to completion (asynchronously: the server under test lives in this process). */
function runNode(args: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Promise<Run> {
  const base = { ...process.env };
  delete base['CHANNEL_LAYER_URL'];
  delete base['SWITCHBOARD_API_KEY'];
  delete base['PORT'];
  delete base['HOST'];
  return new Promise((resolvePromise) => {
    execFile(process.execPath, args, { env: { ...base, ...env }, cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

const send = (args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<Run> => runNode([CLI, 'send', ...args], env, cwd);

/** Whether a Redis answers PING on 127.0.0.1:6379 within 1 s. */
function redisAnswers(): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect(6379, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * The demo's WebSocket routes and the publish API on one Switchboard server, port 0: what
 * `startDemo` serves once it registers the publish API (see demo/api/publish.ts).
 */
interface Demo {
  port: number;
  layer: ChannelLayer;
  close(): Promise<void>;
}

async function startPublishingServer(layer: ChannelLayer): Promise<Demo> {
  const http: FastifyInstance = Fastify({ logger: false });
  await registerPublishApi(http, { channelLayer: layer, apiKey: KEY });
  await http.ready();
  const server = new SwitchboardServer(new ProtocolTypeRouter({ http: http.routing, websocket: createWebsocketApplication() }), {
    host: '127.0.0.1',
    port: 0,
    channelLayer: layer,
  });
  const { port } = await server.listen();
  return {
    port,
    layer,
    async close() {
      await server.close();
      await http.close();
      await layer.close();
    },
  };
}

/** A `ws` client on `path` that keeps the JSON frames it receives. */
async function chatClient(port: number, path: string): Promise<{ frames: unknown[]; ws: WebSocket }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const frames: unknown[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  await new Promise<void>((resolvePromise, reject) => {
    ws.once('open', () => resolvePromise());
    ws.once('error', reject);
  });
  return { frames, ws };
}

describe('switchboard send (publish API, in-memory layer)', () => {
  let demo: Demo;
  let client: { frames: unknown[]; ws: WebSocket };
  let dir: string;

  before(async () => {
    demo = await startPublishingServer(new InMemoryChannelLayer());
    client = await chatClient(demo.port, '/ws/chat/');
    dir = await mkdtemp(join(tmpdir(), 'sb-cli-send-'));
  });

  after(async () => {
    client.ws.terminate();
    await demo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches a client on ws/chat/ and prints the recipients', async () => {
    const run = await send(
      ['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"payload":{"message":"hi","username":"server"}}', '--url', `http://127.0.0.1:${demo.port}`],
      { SWITCHBOARD_API_KEY: KEY },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'sent to group chat_chat_room: reached 1 recipient(s)\n');
    await waitFor(() => client.frames.length === 1, { message: 'the client got the message' });
    assert.deepEqual(client.frames[0], { message: 'hi', username: 'server' });
  });

  it('takes the server from PORT and the key from ./data/api-key, and sends seed 002\'s flat event', async () => {
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'api-key'), `${KEY}\n`, { mode: 0o600 });
    const before = client.frames.length;
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"message":"flat"}'], { PORT: String(demo.port) }, dir);
    assert.equal(run.code, 0, run.stderr);
    await waitFor(() => client.frames.length === before + 1, { message: 'the client got the flat message' });
    assert.deepEqual(client.frames.at(-1), { message: 'flat', username: 'server' });
  });

  it('has a short form: npm run send -- "hi" reaches ws/chat/ and the chat_room page (the home page\'s "Backend push")', async () => {
    const page = await chatClient(demo.port, '/ws/chat/chat_room/'); // what /chat/chat_room/ opens
    try {
      const before = client.frames.length;
      const run = await runNode([SEND_SCRIPT, 'hello', 'room'], { PORT: String(demo.port), SWITCHBOARD_API_KEY: KEY });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /sent to group chat_chat_room: reached 2 recipient/);
      await waitFor(() => client.frames.length === before + 1 && page.frames.length >= 1, { message: 'both got the short-form message' });
      assert.deepEqual(client.frames.at(-1), { message: 'hello room', username: 'server' });
      assert.deepEqual(page.frames.at(-1), { message: 'hello room', username: 'server' });
    } finally {
      page.ws.close();
    }
  });

  it('exits 1 with the server\'s reason when the key is wrong', async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"message":"x"}', '--url', `http://127.0.0.1:${demo.port}`], {
      SWITCHBOARD_API_KEY: 'not-the-key-0123456789',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused the event: HTTP 401: the API key is wrong/);
  });

  it('exits 1 with a clear message when no key can be found', async () => {
    const empty = await mkdtemp(join(dir, 'no-key-'));
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--url', `http://127.0.0.1:${demo.port}`], {}, empty);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no API key: set SWITCHBOARD_API_KEY/);
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    // A port that was just free: bind port 0, note it, close.
    const probe = Fastify();
    await probe.listen({ host: '127.0.0.1', port: 0 });
    const port = (probe.server.address() as { port: number }).port;
    await probe.close();
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--url', `http://127.0.0.1:${port}`], { SWITCHBOARD_API_KEY: KEY });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot reach the Switchboard server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); start it with "switchboard serve"`));
  });
});

describe('switchboard send: usage errors exit 2 before sending', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['--data that is not JSON', ['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{message: hi}'], /--data is not valid JSON .*; pass an object, e\.g\. --data '\{"message":"hi"\}'/],
    ['--data that is not an object', ['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '["hi"]'], /--data must be a JSON object .*got an array/],
    ['a type in --data that contradicts --type', ['--group', 'g', '--type', 'chat.message', '--data', '{"type":"other"}'], /give the type with --type only/],
    ['a bad group name', ['--group', 'chat room', '--type', 'chat.message'], /send --group\("chat room"\): group names allow \[A-Za-z0-9._-\] only; found " " at index 4/],
    ['a private event type', ['--group', 'g', '--type', '_secret'], /--type: event type "_secret" starts with "_"/],
    ['a lifecycle event type', ['--group', 'g', '--type', 'disconnect'], /would call the lifecycle method disconnect\(\)/],
    ['both --group and --channel', ['--group', 'g', '--channel', 'c', '--type', 't'], /cannot be used with/],
    ['neither --group nor --channel', ['--type', 't'], /give exactly one of --group/],
    ['a missing --type', ['--group', 'g'], /required option '-t, --type <type>' not specified/],
    ['--channel without CHANNEL_LAYER_URL', ['--channel', 'chat-archive', '--type', 'chat.archive'], /--channel needs CHANNEL_LAYER_URL=redis:/],
    ['an unknown option', ['--group', 'g', '--type', 't', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what}`, async () => {
      // --url points nowhere on purpose: a usage error must be reported before any connection.
      const run = await send([...args, '--url', 'http://127.0.0.1:9'], { SWITCHBOARD_API_KEY: KEY });
      assert.equal(run.code, 2, `${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }
});

describe('switchboard send (Redis layer, CHANNEL_LAYER_URL)', async () => {
  const available = await redisAnswers();
  const skip = available ? false : process.env['REQUIRE_SERVICES'] === '1' ? false : 'Redis not reachable on 127.0.0.1:6379 (set REQUIRE_SERVICES=1 to fail instead)';
  let demo: Demo | undefined;
  let client: { frames: unknown[]; ws: WebSocket } | undefined;

  before(async () => {
    if (skip !== false) return;
    // The default key prefix: the CLI's getChannelLayer() and this server must share groups.
    demo = await startPublishingServer(await getChannelLayer({ url: REDIS_URL }));
    client = await chatClient(demo.port, '/ws/chat/');
  });

  after(async () => {
    client?.ws.terminate();
    await demo?.close();
  });

  it('publishes through Redis without the server\'s API and prints the processes reached', { skip }, async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"payload":{"message":"via redis","username":"server"}}'], {
      CHANNEL_LAYER_URL: REDIS_URL,
    });
    assert.equal(run.code, 0, run.stderr);
    // At least this test's server; another process on the same Redis may share the group.
    assert.match(run.stdout, /^sent to group chat_chat_room: reached [1-9][0-9]* process\(es\)\n$/);
    await waitFor(() => client!.frames.length === 1, { message: 'the client got the Redis message' });
    assert.deepEqual(client!.frames[0], { message: 'via redis', username: 'server' });
  });

  it('exits 1 with a clear message when Redis is unreachable', { skip }, async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message'], { CHANNEL_LAYER_URL: 'redis://127.0.0.1:9/0' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /CHANNEL_LAYER_URL: cannot use Redis at 127\.0\.0\.1:9/);
  });
});
