/** The ingestion API of the IoT tests: its key and a Fastify app serving it. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ChannelLayer } from 'switchboard';
import { registerIotApi } from '../iot/ingest-api.js';
import type { ReadingsStore } from '../iot/readings-store.js';

export const API_KEY = 'test-key-0123456789abcdef';
export const auth = { authorization: `Bearer ${API_KEY}` };

/** A Fastify app with the ingestion API; `apiKey: null` runs it without a key. */
export async function apiApp(layer: ChannelLayer, store: ReadingsStore, apiKey: string | null = API_KEY): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  registerIotApi(app, { channelLayer: layer, store, apiKey: apiKey ?? undefined });
  await app.ready();
  return app;
}
