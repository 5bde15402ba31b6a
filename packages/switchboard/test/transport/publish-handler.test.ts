/**
 * The publish endpoint (`createPublishHandler` + `bearerAuthorization`) over real HTTP, every
 * answer, and its effect on a group member connected over a real WebSocket: a refused publish
 * delivers nothing.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  bearerAuthorization,
  createPublishHandler,
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  SwitchboardServer,
  URLRouter,
  path,
  silentLogger,
  type LayerMessage,
  type PublishErrorResponse,
} from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { connectClient, type TestClient } from '../helpers.js';

const TOKEN = 'publish-test-token-0123456789';

class Member extends JsonWebsocketConsumer {
  override groups = ['news'];
  newsItem(event: LayerMessage): void {
    this.sendJson(event);
  }
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** One HTTP request; `chunks` are written one by one (no Content-Length: chunked). */
function call(port: number, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunks?: string[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...options.headers };
    for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/api/publish', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    if (options.chunks) for (const chunk of options.chunks) req.write(chunk);
    req.end(options.body);
  });
}

const publishBody = (group: string, event: unknown): string => JSON.stringify({ group, event });

describe('createPublishHandler', () => {
  let layer: InMemoryChannelLayer;
  let server: SwitchboardServer;
  let port: number;
  let member: TestClient;

  before(async () => {
    layer = new InMemoryChannelLayer({ maxMessageBytes: 2_048 });
    const publish = createPublishHandler({
      channelLayer: layer,
      authorize: (req) => (req.headers['x-role'] === 'reader' ? { status: 403, message: 'readers may not publish' } : bearerAuthorization(TOKEN, { hint: 'the token is in $PUBLISH_TOKEN' })(req)),
      maxBodyBytes: 4_096,
    });
    const router = new ProtocolTypeRouter({
      http: (req, res) => (req.url === '/api/publish' ? publish(req, res) : res.writeHead(404).end()),
      websocket: new URLRouter([path('ws/news/', Member)]),
    });
    server = new SwitchboardServer(router, { port: 0, channelLayer: layer, logger: silentLogger() });
    port = (await server.listen()).port;
    member = await connectClient(`ws://127.0.0.1:${port}/ws/news/`);
    await waitFor(async () => (await layer.groupSize('news')) === 1);
  });
  after(async () => {
    member.ws.close();
    await server.close();
    await layer.close();
  });

  /** Asserts the error body, and that the member got nothing from it. */
  async function refused(answer: Answer, status: number, code: string, message: RegExp): Promise<void> {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    const body = answer.body as unknown as PublishErrorResponse;
    assert.equal(body.statusCode, status);
    assert.equal(body.code, code);
    assert.match(body.message, message);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
  }

  it('answers 200 with the recipients and delivers the event to the group', async () => {
    const answer = await call(port, { body: publishBody('news', { type: 'news.item', n: 1 }) });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { recipients: 1, dropped: 0, crossProcess: false });
    await waitFor(() => member.messages.length === 1);
    assert.deepEqual(JSON.parse(member.messages[0]!), { type: 'news.item', n: 1 });
  });

  it('answers 401 with a Bearer challenge without a token or with a wrong one', async () => {
    const missing = await call(port, { headers: { authorization: '' }, body: publishBody('news', { type: 'news.item' }) });
    await refused(missing, 401, 'SB_ERR_UNAUTHORIZED', /^send the token as "Authorization: Bearer <token>"; the token is in \$PUBLISH_TOKEN$/);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="switchboard"');
    const wrong = await call(port, { headers: { authorization: 'Bearer not-the-token-0123456789' }, body: publishBody('news', { type: 'news.item' }) });
    await refused(wrong, 401, 'SB_ERR_UNAUTHORIZED', /^the token is wrong/);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="switchboard", error="invalid_token"');
    const basic = await call(port, { headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }, body: publishBody('news', { type: 'news.item' }) });
    assert.equal(basic.status, 401);
  });

  it('answers 403 when authorize() says so', async () => {
    await refused(await call(port, { headers: { 'x-role': 'reader' }, body: publishBody('news', { type: 'news.item' }) }), 403, 'SB_ERR_FORBIDDEN', /^readers may not publish$/);
  });

  it('answers 400 naming the field that is missing or wrong', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ event: { type: 'news.item' } }, /^body must have required property 'group'$/],
      [{ group: 7, event: { type: 'news.item' } }, /^body\/group must be string$/],
      [{ group: 'news' }, /^body must have required property 'event'$/],
      [{ group: 'news', event: [] }, /^body\/event must be object$/],
      [{ group: 'news', event: {} }, /^body\/event must have required property 'type'$/],
      [{ group: 'news', event: { type: 3 } }, /^body\/event\/type must be string$/],
      [{ group: 'news', event: { type: 'news.item' }, extra: 1 }, /^body must NOT have additional properties; found "extra"$/],
      [['news'], /^body must be a JSON object/],
    ];
    for (const [body, message] of cases) await refused(await call(port, { body: JSON.stringify(body) }), 400, 'SB_ERR_INVALID_MESSAGE', message);
  });

  it('answers 400 SB_ERR_INVALID_JSON for a body that is not JSON', async () => {
    await refused(await call(port, { body: '{"group": "news",' }), 400, 'SB_ERR_INVALID_JSON', /^body is not valid JSON: /);
  });

  it('answers 400 for a bad group name and for event types that would reach private or lifecycle methods', async () => {
    await refused(await call(port, { body: publishBody('news room', { type: 'news.item' }) }), 400, 'SB_ERR_INVALID_GROUP_NAME', /found " " at index 4/);
    for (const type of ['_secret', 'disconnect', 'send', 'close']) {
      await refused(await call(port, { body: publishBody('news', { type }) }), 400, 'SB_ERR_INVALID_EVENT_TYPE', new RegExp(type));
    }
  });

  it('answers 405 with Allow: POST for another method', async () => {
    const answer = await call(port, { method: 'GET' });
    await refused(answer, 405, 'SB_ERR_METHOD_NOT_ALLOWED', /use POST/);
    assert.equal(answer.headers['allow'], 'POST');
  });

  it('answers 413 over maxBodyBytes, declared or streamed, and over the layer\'s maxMessageBytes', async () => {
    await refused(await call(port, { body: publishBody('news', { type: 'news.item', text: 'x'.repeat(5_000) }) }), 413, 'SB_ERR_MESSAGE_TOO_LARGE', /body of \d+ bytes is over the limit of 4096/);
    const chunks = [`{"group":"news","event":{"type":"news.item","text":"`, 'y'.repeat(3_000), 'y'.repeat(3_000), '"}}'];
    await refused(await call(port, { chunks }), 413, 'SB_ERR_MESSAGE_TOO_LARGE', /body is over the limit of 4096 bytes/);
    // Within the body limit, over the layer's 2 KiB message limit.
    await refused(await call(port, { body: publishBody('news', { type: 'news.item', text: 'z'.repeat(3_000) }) }), 413, 'SB_ERR_MESSAGE_TOO_LARGE', /2048/);
  });

  it('answers 415 for a body that is not application/json', async () => {
    await refused(await call(port, { headers: { 'content-type': 'text/plain' }, body: publishBody('news', { type: 'news.item' }) }), 415, 'SB_ERR_UNSUPPORTED_MEDIA_TYPE', /not "text\/plain"/);
    await refused(await call(port, { headers: { 'content-type': '' }, body: publishBody('news', { type: 'news.item' }) }), 415, 'SB_ERR_UNSUPPORTED_MEDIA_TYPE', /not "none"/);
    const charset = await call(port, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: publishBody('news', { type: 'news.item', n: 2 }) });
    assert.equal(charset.status, 200);
  });

  it('delivered nothing for any refused request', async () => {
    // Only the two accepted events (n 1 and n 2) reached the member, in order.
    const last = await call(port, { body: publishBody('news', { type: 'news.item', n: 3 }) });
    assert.equal(last.status, 200);
    await waitFor(() => member.messages.some((m) => (JSON.parse(m) as { n?: number }).n === 3));
    assert.deepEqual(member.messages.map((m) => (JSON.parse(m) as { n?: number }).n), [1, 2, 3]);
  });

  it('refuses to be created without authorize', () => {
    assert.throws(() => createPublishHandler({ channelLayer: layer } as never), /authorize is required/);
    assert.throws(() => bearerAuthorization('short'), TypeError);
  });
});

describe('createPublishHandler on a closed layer', () => {
  it('answers 503 SB_ERR_LAYER_CLOSED', async () => {
    const layer = new InMemoryChannelLayer();
    const publish = createPublishHandler({ channelLayer: layer, authorize: bearerAuthorization(TOKEN) });
    const server = new SwitchboardServer(new ProtocolTypeRouter({ http: publish }), { port: 0, logger: silentLogger() });
    const { port } = await server.listen();
    try {
      await layer.close();
      const answer = await call(port, { body: publishBody('news', { type: 'news.item' }) });
      assert.equal(answer.status, 503);
      assert.equal(answer.body['code'], 'SB_ERR_LAYER_CLOSED');
      assert.match(String(answer.body['message']), /^the channel layer cannot send right now: /);
    } finally {
      await server.close();
    }
  });
});
