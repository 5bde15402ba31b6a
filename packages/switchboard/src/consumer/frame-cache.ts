/**
 * The frames `sendJson` shares between connections (DESIGN.md §7): a group event handled by 1,000
 * members costs one JSON encode and one frame, whether each handler forwards part of the event
 * (`this.sendJson(e.payload)`, the same object every time) or builds a fresh object with the same
 * values (`this.sendJson({ message: e.message, username: e.username })`, as a Channels port does).
 *
 * While a layer event's handler runs, the k-th `sendJson` of that handler is compared with the
 * k-th `sendJson` of the previous member's handler for the *same event*: the same object, or a
 * plain object (or array) with the same keys in the same order and identical (`===`) values, reuses
 * that member's prepared frame. Anything else (a field of its own per member, a class instance, a
 * `Date`) is encoded for that member alone. Outside a handler, one object sent to many connections
 * within a tick is encoded once (cached per object identity). Both caches are dropped at the end
 * of the tick, so an object changed in a later tick is encoded again.
 */
import { callHandler } from './handlers.js';
import type { Logger } from '../logging.js';
import type { LayerMessage } from '../layers/channel-layer.js';
import { PreparedMessage } from '../connection.js';

/** The layer event whose handler runs now, and how many `sendJson` calls it made so far. */
interface DispatchState {
  event: object | undefined;
  sends: number;
}

/** What a handler is dispatched under; set and restored by the consumer around each handler call. */
export const dispatch: DispatchState = { event: undefined, sends: 0 };

/** The previous member's k-th send for the current event: its content, that content's keys, its frame. */
interface Slot {
  content: object;
  keys: readonly string[] | null;
  /** The content's values in `keys` order (compared by index, not looked up by name per member). */
  values: readonly unknown[] | null;
  prepared: PreparedMessage;
}

let slotsEvent: object | undefined;
const slots: Slot[] = [];
let byIdentity = new WeakMap<object, PreparedMessage>();
let resetScheduled = false;

function resetAtTickEnd(): void {
  resetScheduled = false;
  slotsEvent = undefined;
  slots.length = 0;
  byIdentity = new WeakMap();
}

function scheduleReset(): void {
  if (resetScheduled) return;
  resetScheduled = true;
  process.nextTick(resetAtTickEnd);
}

/** Keys of a plain object or array whose frame may be shared by value, else `null`. */
function comparableKeys(content: object): readonly string[] | null {
  if (Array.isArray(content)) return null; // compared element by element, no keys needed
  const proto = Object.getPrototypeOf(content) as unknown;
  return proto === Object.prototype || proto === null ? Object.keys(content) : null;
}

/** `content`'s values in `keys` order. */
function valuesOf(content: object, keys: readonly string[] | null): readonly unknown[] | null {
  return keys === null ? null : keys.map((key) => (content as Record<string, unknown>)[key]);
}

/** Whether `next` encodes as `prev` did: same keys in the same order, identical values. */
function sameContent(prev: object, keys: readonly string[] | null, values: readonly unknown[] | null, next: object): boolean {
  if (keys === null) {
    if (!Array.isArray(prev) || !Array.isArray(next) || prev.length !== next.length) return false;
    for (let i = 0; i < next.length; i++) if (next[i] !== prev[i]) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(next) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  let n = 0;
  // for-in walks own keys in JSON.stringify's order (an inherited enumerable key never matches `keys`).
  for (const key in next) {
    if (key !== keys[n] || (next as Record<string, unknown>)[key] !== values![n]) return false;
    n++;
  }
  return n === keys.length;
}

function encode(content: object): PreparedMessage {
  return new PreparedMessage(JSON.stringify(content));
}

/**
 * The prepared frame for `content` (an object or array), shared with the other connections that
 * send the same content in this tick (see the file comment).
 * @throws what `JSON.stringify` throws (a cycle, a BigInt).
 */
export function preparedJson(content: object): PreparedMessage {
  const event = dispatch.event;
  if (event === undefined) {
    let prepared = byIdentity.get(content);
    if (prepared === undefined) {
      prepared = encode(content);
      byIdentity.set(content, prepared);
      scheduleReset();
    }
    return prepared;
  }
  const index = dispatch.sends++;
  if (slotsEvent !== event) {
    slotsEvent = event;
    slots.length = 0;
    scheduleReset();
  }
  const slot = slots[index];
  if (slot !== undefined) {
    if (slot.content === content || sameContent(slot.content, slot.keys, slot.values, content)) return slot.prepared;
    // A member's own content: encoded for it, and the next member compares with it.
    const prepared = encode(content);
    slot.content = content;
    slot.keys = comparableKeys(content);
    slot.values = valuesOf(content, slot.keys);
    slot.prepared = prepared;
    return prepared;
  }
  const prepared = encode(content);
  if (index === slots.length) {
    const keys = comparableKeys(content);
    slots.push({ content, keys, values: valuesOf(content, keys), prepared });
  }
  return prepared;
}

/**
 * Calls the consumer's handler for `message` with frame sharing on: its `sendJson` calls may reuse
 * the previous member's frames for the same event (see above). Nested dispatches keep their own.
 */
export function callHandlerSharingFrames(consumer: { readonly logger: Logger }, message: LayerMessage): unknown {
  const outerEvent = dispatch.event;
  const outerSends = dispatch.sends;
  dispatch.event = message;
  dispatch.sends = 0;
  try {
    return callHandler(consumer, message);
  } finally {
    dispatch.event = outerEvent;
    dispatch.sends = outerSends;
  }
}
