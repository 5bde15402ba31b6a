/**
 * `switchboard send` as a separate process (seed 002's `send_message`): through a running server's
 * publish endpoint (`createPublishHandler`, in-memory layer), through Redis (CHANNEL_LAYER_URL),
 * and its usage errors.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { freePort } from '@switchboard/test-support';
import {
  bearerAuthorization,
  createPublishHandler,
  getChannelLayer,
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  path,
  silentLogger,
  type ChannelLayer,
  type LayerMessage,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'dist/src/cli/main.js');
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
  delete base['SWITCHBOARD_PUBLISH_TOKEN'];
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

/** A member of group `chat_chat_room` that forwards `chat.message` events' `payload` (or the event's `message`). */
class RoomConsumer extends JsonWebsocketConsumer {
  override groups = ['chat_chat_room'];
  chatMessage(event: LayerMessage): void {
    this.sendJson(event['payload'] ?? { message: event['message'] });
  }
}

/** A Switchboard server with `ws/chat/` and the publish endpoint at `/api/publish`, port 0. */
interface Demo {
  port: number;
  layer: ChannelLayer;
  close(): Promise<void>;
}

async function startPublishingServer(layer: ChannelLayer): Promise<Demo> {
  const publish = createPublishHandler({ channelLayer: layer, authorize: bearerAuthorization(KEY) });
  const router = new ProtocolTypeRouter({
    http: (req, res) => (req.url === '/api/publish' ? publish(req, res) : res.writeHead(404).end()),
    websocket: new URLRouter([path('ws/chat/', RoomConsumer)]),
  });
  const server = new SwitchboardServer(router, { host: '127.0.0.1', port: 0, channelLayer: layer, logger: silentLogger() });
  const { port } = await server.listen();
  return {
    port,
    layer,
    async close() {
      await server.close();
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

  before(async () => {
    demo = await startPublishingServer(new InMemoryChannelLayer());
    client = await chatClient(demo.port, '/ws/chat/');
  });

  after(async () => {
    client.ws.terminate();
    await demo.close();
  });

  const endpoint = (): string => `http://127.0.0.1:${demo.port}/api/publish`;

  it('reaches a client on ws/chat/ and prints the recipients', async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"payload":{"message":"hi","username":"server"}}', '--url', endpoint()], {
      SWITCHBOARD_PUBLISH_TOKEN: KEY,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'sent to group chat_chat_room: reached 1 recipient(s)\n');
    await waitFor(() => client.frames.length === 1, { message: 'the client got the message' });
    assert.deepEqual(client.frames[0], { message: 'hi', username: 'server' });
  });

  it('exits 1 with the server\'s reason when the token is wrong, and nothing is sent', async () => {
    const before = client.frames.length;
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"message":"x"}', '--url', endpoint()], {
      SWITCHBOARD_PUBLISH_TOKEN: 'not-the-key-0123456789',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refused the event: HTTP 401: the token is wrong \(SB_ERR_UNAUTHORIZED\)/);
    // A message sent after the refusal arrives first: the refused one was never delivered.
    const ok = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--data', '{"message":"after"}', '--url', endpoint()], { SWITCHBOARD_PUBLISH_TOKEN: KEY });
    assert.equal(ok.code, 0, ok.stderr);
    await waitFor(() => client.frames.length === before + 1);
    assert.deepEqual(client.frames.at(-1), { message: 'after' });
  });

  it('exits 2 with a clear message when no token is set', async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--url', endpoint()], {});
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no token for the publish endpoint: set SWITCHBOARD_PUBLISH_TOKEN/);
  });

  it('exits 2 naming both ways when neither --url nor CHANNEL_LAYER_URL is given', async () => {
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message'], { SWITCHBOARD_PUBLISH_TOKEN: KEY });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /nowhere to send: set CHANNEL_LAYER_URL=redis:\/\/… \(or --channel-layer-url\) .* or pass --url/);
  });

  it('exits 1 with a clear message when the server is unreachable', async () => {
    const port = await freePort();
    const run = await send(['--group', 'chat_chat_room', '--type', 'chat.message', '--url', `http://127.0.0.1:${port}/api/publish`], { SWITCHBOARD_PUBLISH_TOKEN: KEY });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot reach the Switchboard server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is it running\\?`));
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
      const run = await send([...args, '--url', 'http://127.0.0.1:9/api/publish'], { SWITCHBOARD_PUBLISH_TOKEN: KEY });
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

  it('publishes through Redis without the server\'s endpoint and prints the processes reached', { skip }, async () => {
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
