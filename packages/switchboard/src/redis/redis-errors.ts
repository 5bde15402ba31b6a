/**
 * The one mapping from what ioredis throws to what the Redis backend's callers see, used by the
 * channel layer and every store:
 * - after `close()`: {@link LayerClosedError};
 * - the connection is gone, not up yet, or timed out, or Redis answers that it cannot serve now
 *   (`LOADING`, `READONLY`, `MASTERDOWN`, `CLUSTERDOWN`, `TRYAGAIN`, `BUSY`, `OOM`,
 *   `NOREPLICAS`): {@link RedisUnavailableError} (`SB_ERR_LAYER_UNAVAILABLE`), with the client's
 *   error as `cause`;
 * - any other error reply (`WRONGTYPE`, a script error): a bug or foreign data under the prefix,
 *   not an outage; it is rethrown unchanged so it is not retried as one.
 */
import { ReplyError } from 'ioredis';
import { LayerClosedError } from '../errors.js';
import { RedisUnavailableError } from './redis-unavailable-error.js';

/** Error replies that mean "not now" rather than "wrong" (the Redis documentation's error prefixes). */
const UNAVAILABLE_REPLY_RE = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|NOREPLICAS)\b/;

/** Whether `err` is an error reply that is not an availability problem (see the module documentation). */
export function isServerBug(err: unknown): boolean {
  return err instanceof ReplyError && !UNAVAILABLE_REPLY_RE.test((err as Error).message);
}

/**
 * The error to reject with for a failed Redis command.
 * @param what - the operation as the caller wrote it, e.g. `groupSize("chat")` or
 *   `history.append("chat")`; starts the message.
 * @param owner - what was closed, e.g. `'the channel layer'`, for the closed message.
 */
export function mapRedisError(what: string, err: unknown, closed: boolean, owner: string): Error {
  if (closed) return new LayerClosedError(`${what}: ${owner} was closed while waiting for Redis`);
  if (err instanceof RedisUnavailableError || err instanceof LayerClosedError) return err;
  if (isServerBug(err)) return err as Error;
  const message = err instanceof Error ? err.message : String(err);
  const verb = err instanceof ReplyError ? 'refused the command' : 'is unreachable';
  return new RedisUnavailableError(`${what}: Redis ${verb} (${message})`, err);
}
