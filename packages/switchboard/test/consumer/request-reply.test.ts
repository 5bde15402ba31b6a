/**
 * Request/reply over real sockets: `SwitchboardSocket.request` (in Node, `ws` as the WebSocket)
 * reaching `on<Type>` handlers of a JsonWebsocketConsumer, correlated by id; schemas; errors
 * answered without closing; timeouts; typed event maps and init arguments on the same consumer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import {
  BadRequestError,
  JsonWebsocketConsumer,
  URLRouter,
  path,
  silentLogger,
  type EventHandlers,
  type LayerEvent,
  type RequestHandlers,
  type StandardSchemaV1,
} from 'switchboard';
import { RequestError, SwitchboardSocket } from 'switchboard/client';
import { startTestServer, waitFor, type TestServer } from 'switchboard/testing';

/** A minimal Standard Schema for `{ amount: number }`, so the test needs no validator package. */
const BidSchema: StandardSchemaV1<unknown, { amount: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      const amount = (value as { amount?: unknown } | null)?.amount;
      if (typeof amount === 'number' && Number.isFinite(amount)) return { value: { amount } };
      return { issues: [{ message: `expected a number, got ${typeof amount}`, path: ['amount'] }] };
    },
  },
};

interface AuctionEvents {
  'auction.bid': { readonly amount: number; readonly bidder: string };
}

interface AuctionRequests {
  'bid.place': { data: { amount: number }; reply: { accepted: true; highest: number } };
  'echo.slow': { data: { n: number; delayMs: number }; reply: { n: number } };
  'auction.crash': { data: null; reply: never };
}

/** An auction room: the lot's start price comes as an init argument. */
class AuctionConsumer
  extends JsonWebsocketConsumer<{ lot: string }, AuctionEvents, { startPrice: number }>
  implements EventHandlers<AuctionEvents>, RequestHandlers<AuctionRequests>
{
  override groups = [`lot_${this.scope.urlRoute.kwargs.lot}`];
  override requestSchemas = { 'bid.place': BidSchema };
  static highest = new Map<string, number>();

  async onBidPlace(data: { amount: number }): Promise<{ accepted: true; highest: number }> {
    const lot = this.scope.urlRoute.kwargs.lot;
    const highest = AuctionConsumer.highest.get(lot) ?? this.args.startPrice;
    if (data.amount <= highest) throw new BadRequestError(`bid ${data.amount} is not above ${highest}`);
    AuctionConsumer.highest.set(lot, data.amount);
    await this.groupSend(this.groups[0] ?? '', { type: 'auction.bid', amount: data.amount, bidder: this.channelName });
    return { accepted: true, highest: data.amount };
  }

  async onEchoSlow(data: { n: number; delayMs: number }): Promise<{ n: number }> {
    await new Promise((resolve) => setTimeout(resolve, data.delayMs));
    return { n: data.n };
  }

  onAuctionCrash(): never {
    throw new Error('a bug in a request handler');
  }

  auctionBid(event: LayerEvent<AuctionEvents, 'auction.bid'>): void {
    this.sendJson({ bid: event.amount });
  }
}

describe('request/reply', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(new URLRouter([path('ws/lot/<lot>/', AuctionConsumer.with({ startPrice: 10 }))]), { logger: silentLogger() });
  });
  after(() => server.close());

  const open = (lot: string): SwitchboardSocket<AuctionRequests> =>
    new SwitchboardSocket<AuctionRequests>(`${server.url}/ws/lot/${lot}/`, { WebSocketImpl: WebSocket, recover: false, maxAttempts: 1 });

  it('matches 1,000 replies from 10 clients to their requests', async () => {
    const sockets = Array.from({ length: 10 }, () => open('echo'));
    try {
      const replies = await Promise.all(
        sockets.flatMap((socket, c) => Array.from({ length: 100 }, (_, i) => socket.request('echo.slow', { n: c * 1000 + i, delayMs: i % 3 }).then((r) => [c * 1000 + i, r.n]))),
      );
      assert.equal(replies.length, 1000);
      for (const [sent, got] of replies) assert.equal(got, sent);
    } finally {
      for (const s of sockets) s.close();
    }
  });

  it('answers an application error to the request and keeps the connection, uncounted', async () => {
    const socket = open('a');
    const closes: number[] = [];
    socket.on('close', (c) => closes.push(c.code));
    try {
      assert.deepEqual(await socket.request('bid.place', { amount: 11 }), { accepted: true, highest: 11 });
      // Far more refused bids than badFrameLimit (5): each is answered, none closes.
      for (let i = 0; i < 12; i++) {
        await assert.rejects(socket.request('bid.place', { amount: 5 }), (e: unknown) => e instanceof RequestError && e.code === 'SB_ERR_BAD_REQUEST' && /not above 11/.test(e.message));
      }
      assert.deepEqual(await socket.request('bid.place', { amount: 12 }), { accepted: true, highest: 12 });
      assert.deepEqual(closes, []);
    } finally {
      socket.close();
    }
  });

  it('answers data failing the request schema with SB_ERR_VALIDATION naming the field', async () => {
    const socket = open('b');
    try {
      const bad = { amount: 'lots' } as unknown as { amount: number };
      await assert.rejects(socket.request('bid.place', bad), (e: unknown) => e instanceof RequestError && e.code === 'SB_ERR_VALIDATION' && /"amount": expected a number, got string/.test(e.message));
      assert.equal(AuctionConsumer.highest.get('b'), undefined, 'the refused bid changed nothing');
    } finally {
      socket.close();
    }
  });

  it('answers an unknown request type with SB_ERR_NO_REQUEST_HANDLER, and never reaches an event handler', async () => {
    const socket = new SwitchboardSocket(`${server.url}/ws/lot/c/`, { WebSocketImpl: WebSocket, recover: false, maxAttempts: 1 });
    const messages: unknown[] = [];
    socket.on('message', (m) => messages.push(m));
    try {
      // `auction.bid` is a layer event type: a client must not be able to trigger auctionBid().
      await assert.rejects(socket.request('auction.bid', { amount: 1e9, bidder: 'x' }), (e: unknown) => e instanceof RequestError && e.code === 'SB_ERR_NO_REQUEST_HANDLER' && /onAuctionBid/.test(e.message));
      assert.deepEqual(messages, []);
    } finally {
      socket.close();
    }
  });

  it('rejects with SB_ERR_TIMEOUT when no reply comes in time, and the late reply is ignored', async () => {
    const socket = open('d');
    try {
      await assert.rejects(socket.request('echo.slow', { n: 1, delayMs: 300 }, { timeoutMs: 50 }), (e: unknown) => e instanceof RequestError && e.code === 'SB_ERR_TIMEOUT');
      // The connection is fine: a later request is answered (after the slow one, in order).
      assert.deepEqual(await socket.request('echo.slow', { n: 2, delayMs: 0 }), { n: 2 });
    } finally {
      socket.close();
    }
  });

  it('answers a handler bug with SB_ERR_INTERNAL, then closes with 1011', async () => {
    const socket = open('e');
    const closes: number[] = [];
    socket.on('close', (c) => closes.push(c.code));
    try {
      await assert.rejects(socket.request('auction.crash', null), (e: unknown) => e instanceof RequestError && e.code === 'SB_ERR_INTERNAL');
      await waitFor(() => closes.length === 1, { message: 'closed' });
      assert.deepEqual(closes, [1011]);
    } finally {
      socket.close();
    }
  });

  it('delivers typed group events to every member', async () => {
    const a = open('f');
    const b = open('f');
    const got: unknown[] = [];
    b.on('message', (m) => got.push(m));
    try {
      await b.request('echo.slow', { n: 0, delayMs: 0 }); // b is in the group
      await a.request('bid.place', { amount: 50 });
      await waitFor(() => got.length === 1, { message: 'b saw the bid' });
      assert.deepEqual(got, [{ bid: 50 }]);
    } finally {
      a.close();
      b.close();
    }
  });
});
