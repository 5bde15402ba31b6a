/**
 * Builds the channel layer from configuration (Channels `get_channel_layer()` + `CHANNEL_LAYERS`):
 * `CHANNEL_LAYER_URL` unset or `memory://` → {@link InMemoryChannelLayer}; `redis://…` /
 * `rediss://…` → `RedisChannelLayer`, loaded only then so the core never loads a Redis client.
 * A bad value stops start-up with a {@link ConfigError} naming the variable.
 */
import { ConfigError } from '../errors.js';
import type { ChannelLayer, ChannelLayerOptions } from './channel-layer.js';
import { InMemoryChannelLayer } from './in-memory.js';

/** Options for {@link getChannelLayer}. */
export interface GetChannelLayerOptions extends ChannelLayerOptions {
  /** The layer URL; default `process.env.CHANNEL_LAYER_URL`. */
  url?: string | undefined;
  /** Variable name used in error messages. Default `CHANNEL_LAYER_URL`. */
  variable?: string;
  /** Redis key prefix (Redis layer only). */
  prefix?: string;
}

/**
 * Creates the configured layer; for Redis, connects and checks the server answers.
 * @throws {@link ConfigError} for an unknown scheme, an unparsable URL, or an unreachable Redis.
 */
export async function getChannelLayer(options: GetChannelLayerOptions = {}): Promise<ChannelLayer> {
  const variable = options.variable ?? 'CHANNEL_LAYER_URL';
  const raw = options.url ?? process.env[variable];
  const { url: _u, variable: _v, prefix, ...layerOptions } = options;
  if (raw === undefined || raw.trim() === '' || raw === 'memory://') return new InMemoryChannelLayer(layerOptions);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `${JSON.stringify(raw)} is not a URL; use redis://host:port/db, or leave it unset for the in-memory layer`);
  }
  if (url.protocol === 'redis:' || url.protocol === 'rediss:') {
    let RedisChannelLayer;
    try {
      ({ RedisChannelLayer } = await import('../redis/index.js'));
    } catch (err) {
      // ioredis is an optional peer dependency, installed by apps that use Redis.
      if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes("'ioredis'")) {
        throw new ConfigError(variable, `${url.protocol}// needs the Redis client: run "npm install ioredis" in your app (an optional peer dependency of switchboard)`);
      }
      throw err;
    }
    try {
      return await RedisChannelLayer.fromUrl(raw, { ...layerOptions, ...(prefix === undefined ? {} : { prefix }) });
    } catch (err) {
      throw new ConfigError(variable, `cannot use Redis at ${url.host}: ${(err as Error).message}`);
    }
  }
  throw new ConfigError(variable, `unknown scheme ${JSON.stringify(url.protocol)} in ${JSON.stringify(raw)}; use redis:// or rediss://, or leave it unset for the in-memory layer`);
}
