/**
 * `GET /metrics`: the process's Prometheus metrics (Switchboard's server and channel layer
 * counters from `switchboard/metrics`, plus Node's default process metrics from prom-client),
 * behind the same bearer key as the publish API (`SWITCHBOARD_API_KEY`). Prometheus sends it
 * with `authorization: {credentials: <key>}` in its scrape config.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ChannelLayer, SwitchboardServer } from 'switchboard';
import { registerSwitchboardMetrics } from 'switchboard/metrics';
import { bearerChecker } from './bearer.js';

/** Options of {@link registerMetricsApi}. */
export interface MetricsApiOptions {
  /** Read at scrape time; may be set after registration (the server is created after the HTTP app). */
  readonly sources: { server?: SwitchboardServer; channelLayer?: ChannelLayer };
  /** Bearer key, at least 16 characters. */
  readonly apiKey: string;
}

/**
 * Registers `GET /metrics` on `app` (before `app.ready()`). Answers 200 in the Prometheus text
 * format, or 401 with `WWW-Authenticate: Bearer` without the right key.
 * The Switchboard metrics are registered on the first scrape, once the server exists.
 */
export function registerMetricsApi(app: FastifyInstance, options: MetricsApiOptions): void {
  const checkKey = bearerChecker(options.apiKey);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let registered = false;
  app.get('/metrics', async (request, reply) => {
    const verdict = checkKey(request.headers.authorization);
    if (verdict !== 'ok') {
      reply.header('www-authenticate', `Bearer realm="switchboard"${verdict === 'wrong' ? ', error="invalid_token"' : ''}`);
      return reply.code(401).type('text/plain; charset=utf-8').send('send the API key as "Authorization: Bearer <key>" (SWITCHBOARD_API_KEY)\n');
    }
    if (!registered && options.sources.server !== undefined) {
      registerSwitchboardMetrics(registry, options.sources);
      registered = true;
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
