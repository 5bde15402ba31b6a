/**
 * `switchboard/redis`: the Redis channel layer, behind its own subpath so the core never
 * loads a Redis client (DESIGN.md §1; Hono `hono/<feature>`).
 */
export { RedisChannelLayer, type RedisChannelLayerStats } from './redis-channel-layer.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_URL,
  type RedisChannelLayerOptions,
  type RedisClusterNode,
  type RedisLayerLogger,
  type RedisSerializerName,
} from './options.js';
export { RedisUnavailableError } from './redis-unavailable-error.js';
export { RedisPresenceStore, type RedisPresenceStoreOptions } from './redis-presence-store.js';
export { RedisHistoryStore, type RedisHistoryStoreOptions } from './redis-history-store.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
