/**
 * Switchboard inside a Fastify app: Fastify serves HTTP on its own server, Switchboard takes that
 * server's WebSocket upgrades, and `app.close()` drains the WebSockets first. Fastify is not a
 * dependency: the plugin is typed against the few members it uses.
 */
import type { Server } from 'node:http';
import type { SwitchboardServer } from './server.js';

/** The part of a Fastify instance the plugin uses (`FastifyInstance` satisfies it). */
export interface FastifyInstanceLike {
  /** The `node:http` server Fastify created (`app.server`). */
  readonly server: Server;
  addHook(name: 'preClose', hook: () => Promise<void>): unknown;
}

/** Options of {@link fastifySwitchboard}. */
export interface FastifySwitchboardOptions {
  /**
   * The server whose WebSocket application takes the upgrades; created by you, so you keep a
   * typed handle (stats, `close()`). Give it `logger: app.log` to share Fastify's logger.
   */
  switchboard: SwitchboardServer;
}

/**
 * A Fastify plugin: `await app.register(fastifySwitchboard, { switchboard })`, then
 * `await app.listen(...)`. It calls `switchboard.attach(app.server)` and, on `app.close()`
 * (Fastify's `preClose` hook), `switchboard.close()`: WebSockets close with 1001 and their
 * consumers' `disconnect()` runs before Fastify stops. It is not encapsulated (like plugins
 * wrapped in `fastify-plugin`), so it can be registered once at the root.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * const switchboard = new SwitchboardServer(new ProtocolTypeRouter({ websocket: router }), { channelLayer, logger: app.log });
 * await app.register(fastifySwitchboard, { switchboard });
 * await app.listen({ port: 8000 });
 * ```
 * @throws {@link ConsumerStateError} when `switchboard` already listens or is attached elsewhere.
 */
export const fastifySwitchboard = Object.assign(
  async function fastifySwitchboard(app: FastifyInstanceLike, options: FastifySwitchboardOptions): Promise<void> {
    const { switchboard } = options;
    switchboard.attach(app.server);
    app.addHook('preClose', () => switchboard.close());
  },
  // fastify-plugin's markers: skip encapsulation, and a name in Fastify's plugin tree.
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'switchboard' },
);
