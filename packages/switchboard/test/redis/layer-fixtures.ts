/**
 * What the Redis layer test files share: layers and raw admin clients opened for one test file
 * and cleaned up after it (layers flushed and closed, clients disconnected, child redis-servers
 * stopped by PID).
 */
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { stopProcess } from '@switchboard/test-support';
import { RedisChannelLayer, type RedisChannelLayerOptions } from '../../src/redis/index.js';

/** Openers that remember what they opened, and `cleanup()` for an `after` hook. */
export interface LayerFixtures {
  /** Layers opened so far (a test may push one it made itself). */
  readonly layers: RedisChannelLayer[];
  /** redis-server processes to stop at cleanup. */
  readonly children: ChildProcess[];
  /** A layer on `url` unless `options.url` says otherwise. */
  open(options?: RedisChannelLayerOptions): RedisChannelLayer;
  /** A raw ioredis client (errors ignored), e.g. for CLIENT LIST or SISMEMBER. */
  admin(url?: string): Redis;
  /** Flushes and closes every layer, disconnects every client, stops every child. */
  cleanup(): Promise<void>;
}

/** Fixtures for layers and clients on `url`. */
export function layerFixtures(url: string): LayerFixtures {
  const layers: RedisChannelLayer[] = [];
  const admins: Redis[] = [];
  const children: ChildProcess[] = [];
  return {
    layers,
    children,
    open: (options = {}) => {
      const layer = new RedisChannelLayer({ url, ...options });
      layers.push(layer);
      return layer;
    },
    admin: (clientUrl = url) => {
      const client = new Redis(clientUrl, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      admins.push(client);
      return client;
    },
    cleanup: async () => {
      for (const layer of layers) {
        await layer.flush().catch(() => {});
        await layer.close();
      }
      for (const client of admins) client.disconnect();
      for (const child of children) await stopProcess(child);
    },
  };
}
