/**
 * The error the Redis layer rejects with when an operation needs Redis and Redis cannot be
 * reached. (Candidate for `src/errors.ts` as `LayerUnavailableError`; kept here until the
 * error table in docs/errors.md gets its row.)
 */
import { SwitchboardError } from '../../errors.js';

/**
 * An operation that needs Redis (a direct `send` to another process or a worker channel,
 * `groupSize`, `flush`, the first connection) while Redis is unreachable. Code
 * `SB_ERR_LAYER_UNAVAILABLE`; `cause` is the ioredis error when there is one. Usually nothing
 * was sent; if the connection dropped while the command was in flight it may have been
 * (at-most-once: the layer never resends), so a retry can deliver twice.
 */
export class RedisUnavailableError extends SwitchboardError {
  constructor(message: string, cause?: unknown) {
    super('SB_ERR_LAYER_UNAVAILABLE', message, { cause });
  }
}
