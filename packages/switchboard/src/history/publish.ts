/**
 * Publishing with history: append, then `groupSend` the stored event, so every member and every
 * later recovery see the same `{..., epoch, offset}`. For consumers, CLI commands, workers and
 * HTTP handlers alike (consumers have the method `this.groupSendWithHistory`).
 */
import { LayerUnavailableError } from '../errors.js';
import type { ChannelLayer, GroupSendResult, LayerMessage } from '../layers/channel-layer.js';
import type { HistoryEvent, HistoryStore } from './history-store.js';
import { isHistoryPosition, type HistoryPosition } from './position.js';

/** Result of {@link groupSendWithHistory}: the layer's result and the event's position. */
export interface HistoryGroupSendResult extends GroupSendResult {
  /** The event's epoch; `null` when there is no history store (sent without a position). */
  readonly epoch: string | null;
  /** The event's offset; `null` when there is no history store. */
  readonly offset: number | null;
  /**
   * `true` when the store was unreachable and the event went out without a position (not in
   * the history): see {@link groupSendWithHistory}.
   */
  readonly historyUnavailable?: boolean;
}

/** Options of {@link groupSendWithHistory}. */
export interface GroupSendWithHistoryOptions {
  /**
   * Told when the store was unreachable and the event was sent without a position. Default:
   * nothing (the result's `historyUnavailable` says it).
   */
  onHistoryUnavailable?: (err: LayerUnavailableError) => void;
}

/**
 * Appends `event` to `group`'s history, then sends the stored event (with `epoch` and `offset`)
 * to the group. Without a store (`history` is `null`) it is a plain `groupSend`, so code runs the
 * same with history switched off.
 *
 * Order: append before send, so a consumer that joined the group before reading the history gets
 * every event from one or the other (see `WebsocketConsumer.recoverHistory`). The layer does not
 * order messages of different senders (docs/channel-layer-spec.md §3): two processes publishing
 * at once may deliver offsets 7 and 6 in that order; offsets give the history order.
 *
 * When the store is unreachable (`history.append` rejects with {@link LayerUnavailableError}),
 * the event is still sent, without a position and not kept: an outage of the store must not
 * silence the live group (`historyUnavailable: true`, `options.onHistoryUnavailable`).
 *
 * @throws whatever else `history.append` throws (nothing is sent then) and whatever `groupSend`
 *   throws (the event stays in the history, so a reconnecting client still gets it).
 */
export async function groupSendWithHistory(
  layer: ChannelLayer,
  history: HistoryStore | null,
  group: string,
  event: LayerMessage,
  options: GroupSendWithHistoryOptions = {},
): Promise<HistoryGroupSendResult> {
  if (history === null) {
    const result = await layer.groupSend(group, event);
    return { ...result, epoch: null, offset: null };
  }
  let stored: HistoryEvent;
  try {
    stored = await history.append(group, event);
  } catch (err) {
    if (!(err instanceof LayerUnavailableError)) throw err;
    // The store is down (a Redis outage): the live members still get the event, without a
    // position, as the layer keeps serving local members through an outage. Clients recover
    // what they can once it is back (consumers close with 1012 on layer.reconnected).
    options.onHistoryUnavailable?.(err);
    const result = await layer.groupSend(group, event);
    return { ...result, epoch: null, offset: null, historyUnavailable: true };
  }
  const result = await layer.groupSend(group, stored);
  return { ...result, epoch: stored.epoch, offset: stored.offset };
}

// One object per (event, content) so that sendJson's per-object frame cache still encodes once per
// groupSend, not per recipient (DESIGN.md §7).
const positioned = new WeakMap<object, { content: object; result: object }>();

/**
 * `content` with the `epoch` and `offset` of `event` added, for a handler that forwards part of a
 * history event: `this.sendJson(withPosition(event, event.payload))`. Clients that track positions
 * (the browser `SwitchboardSocket`) read them; others ignore the extra fields. The same `event`
 * and `content` give the same object, so the frame is encoded once for all local recipients.
 * An event without a position gives `content` unchanged.
 */
export function withPosition<C extends object>(event: { readonly type: string }, content: C): C | (C & HistoryPosition) {
  if (!isHistoryPosition(event)) return content;
  const cached = positioned.get(event);
  if (cached !== undefined && cached.content === content) return cached.result as C & HistoryPosition;
  const result = Object.freeze({ ...content, epoch: event.epoch, offset: event.offset });
  positioned.set(event, { content, result });
  return result;
}
