/**
 * `GET /metrics`: the process's Prometheus metrics (Node's default process metrics from
 * prom-client, plus Switchboard's server and channel layer counters, which the caller adds with
 * `registerSwitchboardMetrics` once the server exists), behind the same bearer key as the publish
 * API (`SWITCHBOARD_API_KEY`). Prometheus sends it with `authorization: {credentials: <key>}` in
 * its scrape config.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { bearerChecker } from 'switchboard';

/** Options of {@link registerMetricsApi}. */
export interface MetricsApiOptions {
  /** Bearer key, at least 16 characters. */
  readonly apiKey: string;
}

/**
 * Registers `GET /metrics` on `app` (before `app.ready()`). Answers 200 in the Prometheus text
 * format, or 401 with `WWW-Authenticate: Bearer` without the right key.
 * @returns the registry it serves, with Node's default metrics; add Switchboard's with
 *   `registerSwitchboardMetrics(registry, { server, channelLayer })`.
 */
export function registerMetricsApi(app: FastifyInstance, options: MetricsApiOptions): Registry {
  const checkKey = bearerChecker(options.apiKey);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  app.get('/metrics', async (request, reply) => {
    const verdict = checkKey(request.headers.authorization);
    if (verdict !== 'ok') {
      reply.header('www-authenticate', `Bearer realm="switchboard"${verdict === 'wrong' ? ', error="invalid_token"' : ''}`);
      return reply.code(401).type('text/plain; charset=utf-8').send('send the API key as "Authorization: Bearer <key>" (SWITCHBOARD_API_KEY)\n');
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}
