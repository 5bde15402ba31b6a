/**
 * Behind a proxy (TRUST_PROXY) every client arrives from the proxy's address, so the demo lifts
 * the framework's per-address cap on handshakes in progress; without TRUST_PROXY the cap (128)
 * stays, and the 129th pending connection of one address is answered 429.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { handshakeStatus } from '@switchboard/test-support';
import { proxyDemos } from './proxy-demos.js';

/** `n` TCP connections to `url`'s port that send nothing: handshakes in progress of 127.0.0.1. */
async function silentSockets(url: string, n: number): Promise<Socket[]> {
  const port = Number(new URL(url).port);
  return Promise.all(
    Array.from({ length: n }, async () => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      return socket;
    }),
  );
}

describe('handshakes in progress per address, with and without TRUST_PROXY', () => {
  const demos = proxyDemos({ secretKey: 'test-secret-key-0123456789abcdefghijkl' });

  for (const [name, demo, status] of [
    ['behind a proxy, a client still connects past 128 pending connections of the proxy', () => demos.proxied, 101],
    ['without TRUST_PROXY, the 129th pending connection of one address is refused with 429', () => demos.direct, 429],
  ] as const) {
    it(name, async () => {
      const url = demo().url;
      const pending = await silentSockets(url, 130);
      try {
        // The server counts a socket at its `connection` event: let all 130 arrive first.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(await handshakeStatus(new URL('ws/any_url/', url.replace(/^http/, 'ws')).href), status);
      } finally {
        for (const socket of pending) socket.destroy();
      }
    });
  }
});
