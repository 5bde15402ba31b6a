/**
 * The Redis layer's name for {@link LayerUnavailableError} (code `SB_ERR_LAYER_UNAVAILABLE`).
 */
import { LayerUnavailableError } from '../errors.js';

/**
 * An operation that needs Redis while Redis is unreachable; a {@link LayerUnavailableError}, so
 * code written against any layer can catch that class. See it for the delivery guarantees.
 */
export class RedisUnavailableError extends LayerUnavailableError {}
