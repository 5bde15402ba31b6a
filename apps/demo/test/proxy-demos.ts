/**
 * Two demos for the tests of TRUST_PROXY: one behind a proxy at 127.0.0.1, one reached directly,
 * both on SQLite in memory.
 */
import { after, before } from 'node:test';
import { startDemo, type RunningDemo, type StartDemoOptions } from '../app.js';
import { loadConfig } from '../config.js';

/** The two demos of {@link proxyDemos}; reading one before the suite's `before` ran throws. */
export interface ProxyDemos {
  readonly proxied: RunningDemo;
  readonly direct: RunningDemo;
}

/** Registers `before`/`after` hooks in the calling suite that start and close the two demos. */
export function proxyDemos(options: StartDemoOptions): ProxyDemos {
  let proxied: RunningDemo | undefined;
  let direct: RunningDemo | undefined;
  before(async () => {
    proxied = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:', TRUST_PROXY: '127.0.0.1' }), options);
    direct = await startDemo(loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'sqlite::memory:' }), options);
  });
  after(async () => {
    await proxied?.close();
    await direct?.close();
  });
  const started = (demo: RunningDemo | undefined): RunningDemo => {
    if (demo === undefined) throw new Error('proxyDemos: the suite has not started its demos yet');
    return demo;
  };
  return {
    get proxied() {
      return started(proxied);
    },
    get direct() {
      return started(direct);
    },
  };
}
