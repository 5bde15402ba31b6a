/**
 * Event type → handler method name: `chat.message` → `chatMessage` (a dot, underscore or hyphen
 * is a word break; Channels maps `chat.message` to `chat_message`, so the seeds'
 * `"type": "chat_message"` lands on the same handler).
 */
import { InvalidEventTypeError } from '../errors.js';

/** Method names an event may never land on: the consumer's lifecycle and plumbing. */
export const RESERVED_HANDLER_NAMES: ReadonlySet<string> = new Set([
  'constructor',
  'connect',
  'receive',
  'receiveJson',
  'disconnect',
  'accept',
  'send',
  'sendJson',
  'close',
  'groups',
  'scope',
  'channelName',
  'channelLayer',
  'logger',
  'encodeJson',
  'decodeJson',
  'toString',
  'valueOf',
  'hasOwnProperty',
]);

const cache = new Map<string, string | InvalidEventTypeError>();

/**
 * Returns the handler method name for an event type.
 * @throws {@link InvalidEventTypeError} for a type that starts with `_`, is empty, or would land on
 *   a lifecycle method (`send`, `close`, `accept`, `connect`, `disconnect`, ...).
 */
export function handlerNameFor(type: string): string {
  let name = cache.get(type);
  if (name === undefined) {
    name = compute(type);
    if (cache.size < 10_000) cache.set(type, name);
  }
  if (typeof name !== 'string') throw name;
  return name;
}

function compute(type: string): string | InvalidEventTypeError {
  if (typeof type !== 'string' || type.length === 0) {
    return new InvalidEventTypeError(`event type must be a non-empty string, got ${JSON.stringify(type)}`);
  }
  if (type.startsWith('_')) {
    return new InvalidEventTypeError(`event type ${JSON.stringify(type)} starts with "_"; such handlers are private`);
  }
  const parts = type.split(/[._-]+/).filter((p) => p.length > 0);
  const name = parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
    return new InvalidEventTypeError(`event type ${JSON.stringify(type)} does not map to a method name (letters, digits and . _ - only)`);
  }
  if (RESERVED_HANDLER_NAMES.has(name)) {
    return new InvalidEventTypeError(`event type ${JSON.stringify(type)} would call the lifecycle method ${name}(); choose another type`);
  }
  return name;
}
