/**
 * `switchboard/redis`: the Redis backend, behind its own subpath so the core never loads a Redis
 * client (DESIGN.md §1; Hono `hono/<feature>`; `ioredis` is an optional peer dependency). The
 * channel layer and the history, presence and rate-limit stores take the same connection options
 * (`RedisConnectionOptions`), map errors the same way (`RedisUnavailableError`) and follow one
 * outage policy (docs/architecture.md, "Redis backend").
 */
export { RedisChannelLayer, type RedisChannelLayerStats } from './redis-channel-layer.js';
export { CONFIRM_TIMEOUT_MS } from './layer-groups.js';
export { type RedisChannelLayerOptions, type RedisSerializerName } from './options.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_URL,
  type RedisConnectionOptions,
  type RedisClusterNode,
  type RedisLayerLogger,
} from './connection-options.js';
export { RedisUnavailableError } from './redis-unavailable-error.js';
export { RedisPresenceStore, type RedisPresenceStoreOptions } from './redis-presence-store.js';
export { RedisHistoryStore, type RedisHistoryStoreOptions } from './redis-history-store.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
