/**
 * `checkMessage`: what {@link validateMessage} checks, without encoding the message when a walk
 * of it proves the answer (docs/channel-layer-spec.md §2: a message is a JSON-serialisable
 * object with a string `type`, at most `maxMessageBytes` encoded). The in-memory layer never
 * sends the encoded text anywhere, so for the usual event (a few strings and numbers, maybe one
 * nested plain object) the encode was pure cost on every `send` and `groupSend`.
 */
import { validateMessage } from './channel-layer.js';

/** Values a walk looks at before it gives up and encodes. */
const WALK_BUDGET = 64;

/**
 * An upper bound of the UTF-8 bytes `JSON.stringify(value)` produces, or -1 when the walk cannot
 * tell (a class instance, a `toJSON`, a BigInt, more than the budget of values: the caller then
 * encodes). A string of n UTF-16 units encodes to at most 6n bytes (`\u001f` escapes), a
 * number to at most 24, a key to its string bound plus `"":,`.
 */
function encodedBound(value: unknown, budget: { left: number }): number {
  if (--budget.left < 0) return -1;
  switch (typeof value) {
    case 'string':
      return 6 * value.length + 2;
    case 'number':
      return 24;
    case 'boolean':
      return 5;
    case 'undefined':
    case 'function':
    case 'symbol':
      return 4; // left out (or `null` in an array)
    case 'bigint':
      return -1;
  }
  if (value === null) return 4;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return -1;
    let total = 2;
    for (let i = 0; i < value.length; i++) {
      const n = encodedBound(value[i], budget);
      if (n < 0) return -1;
      total += n + 1;
    }
    return total;
  }
  if (proto !== Object.prototype && proto !== null) return -1;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return -1;
  let total = 2;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const n = encodedBound((value as Record<string, unknown>)[key], budget);
    if (n < 0) return -1;
    total += 6 * key.length + 4 + n;
  }
  return total;
}

/**
 * Checks `message` as {@link validateMessage} does (same errors, same messages), encoding it only
 * when its size cannot be bounded by a walk.
 * @throws {@link InvalidMessageError}, {@link MessageTooLargeError} (see `validateMessage`).
 */
export function checkMessage(message: unknown, maxMessageBytes: number, op: string): void {
  if (message !== null && typeof message === 'object' && !Array.isArray(message)) {
    const type = (message as { type?: unknown }).type;
    if (typeof type === 'string' && type.length > 0 && type.charCodeAt(0) !== 0x5f /* _ */) {
      let bound = -1;
      try {
        bound = encodedBound(message, { left: WALK_BUDGET });
      } catch {
        // A getter threw: validateMessage reports it as JSON.stringify would.
      }
      if (bound >= 0 && bound <= maxMessageBytes) return;
    }
  }
  validateMessage(message, maxMessageBytes, op);
}
