/**
 * History recovery as a consumer feature (DESIGN.md §4, Centrifuge's recovery): a client that
 * reconnects with `?since=<epoch>:<offset>` gets the events of one group it missed, in offset
 * order, before live ones, then a `switchboard.history` frame; or `recovered: false` when the gap
 * is outside the history window (never a partial replay).
 */
import { CloseCode } from '../../close-codes.js';
import { ConsumerStateError } from '../../errors.js';
import { HISTORY_FRAME_TYPE, parseSince, SINCE_PARAM, type HistoryFrame, type HistoryPosition } from '../../history/position.js';
import type { LayerMessage } from '../../layers/channel-layer.js';
import type { ConsumerFeature, FeatureContext } from '../feature.js';

/** Result of {@link HistoryRecoveryFeature.recover}. */
export interface HistoryRecoveryResult extends HistoryPosition {
  /** The position the client sent; `null` for an empty `since=` or an unreadable value. */
  readonly since: HistoryPosition | null;
  /** `true` when the client's missed events were dispatched (always `false` without `since`). */
  readonly recovered: boolean;
  /** How many missed events were dispatched. */
  readonly missed: number;
}

/**
 * The feature; create it with {@link historyRecovery} in a field initializer and list it in
 * `features`. Keep a reference to call {@link HistoryRecoveryFeature.recover} from `connect()`.
 */
export class HistoryRecoveryFeature implements ConsumerFeature {
  readonly name = 'historyRecovery';
  /** The group whose history is recovered; one of the consumer's `groups`, or `null` (off). */
  readonly group: string | null;
  #result: Promise<HistoryRecoveryResult | null> | undefined;
  /** After a replay: live events of this epoch up to this offset were in it, and are skipped. */
  #replayedUntil: HistoryPosition | undefined;
  #context: FeatureContext | undefined;

  constructor(group: string | null) {
    this.group = group;
  }

  /**
   * Runs the recovery once and resolves with its result (later calls: the same result). It runs
   * by itself after `connect()` accepted; call it from `connect()` (after `accept()`, awaited) to
   * act on the result, e.g. load state from a database when `recovered` is `false`.
   *
   * The group was joined before `connect()`, so live events that arrive meanwhile queue behind
   * this step; the missed events are dispatched to their handlers (`chatMessage(event)`, with
   * `event.epoch`/`event.offset`) in offset order, and afterwards live events already replayed are
   * skipped: no gap, no duplicate. An empty `since=` (a client without a position yet) gets only
   * the frame with the current position. Without `since`, a store or a group it resolves `null`
   * and sends nothing: seed-protocol clients see no extra frame.
   *
   * @throws {@link ConsumerStateError} before `accept()`, or when `group` is not one of the
   *   consumer's `groups`; what the store throws (`LayerUnavailableError`: the connection closes
   *   with 1011 and the client retries).
   */
  recover(): Promise<HistoryRecoveryResult | null> {
    const context = this.#context;
    if (context === undefined) return Promise.reject(new ConsumerStateError('recover(): this feature is not in the consumer\'s features'));
    this.#result ??= this.#recover(context);
    return this.#result;
  }

  /** @throws {@link ConsumerStateError} when `group` is not one of the consumer's `groups` (the handshake is refused). */
  attach(context: FeatureContext): void {
    const { consumer } = context;
    if (this.group !== null && !consumer.groups.includes(this.group)) {
      throw new ConsumerStateError(`${consumer.constructor.name}: the history group ${JSON.stringify(this.group)} is not one of its groups; add it to groups so it is joined before the history is read`);
    }
    this.#context = context;
  }

  async connected(): Promise<void> {
    await this.recover();
  }

  event(event: LayerMessage): boolean {
    const replayed = this.#replayedUntil;
    return replayed === undefined || event['epoch'] !== replayed.epoch || (event['offset'] as number) > replayed.offset;
  }

  /**
   * `layer.reconnected` without a handler of the consumer's own: a client that asked for recovery
   * is closed with 1012, because group events published while the layer was cut off never reached
   * this process; it reconnects with `since` and gets exactly those (Centrifugo's "insufficient
   * state" disconnect). Seed-protocol clients (no `since`) are left alone.
   */
  layerEvent(event: LayerMessage, context: FeatureContext): boolean {
    const consumer = context.consumer;
    if (event.type !== 'layer.reconnected' || this.group === null || consumer.history === null || !consumer.isOpen || sinceParam(consumer.scope.queryString) === null) return false;
    consumer.close(CloseCode.SERVICE_RESTART, 'channel layer reconnected: reconnect with since= to recover missed events');
    return true;
  }

  async #recover(context: FeatureContext): Promise<HistoryRecoveryResult | null> {
    const { consumer } = context;
    const group = this.group;
    const history = consumer.history;
    const raw = sinceParam(consumer.scope.queryString);
    if (group === null || history === null || raw === null) return null;
    if (!consumer.isOpen) throw new ConsumerStateError('recover() before accept(): accept the connection first');
    const since = parseSince(raw);
    let result: HistoryRecoveryResult;
    if (since === null) {
      const position = await history.position(group);
      result = { ...position, since, recovered: false, missed: 0 };
    } else {
      const recovery = await history.since(group, since);
      let missed = 0;
      if (recovery.recovered) {
        for (const event of recovery.events) {
          if (!consumer.isOpen) return null;
          const handled = context.dispatch(event);
          if (handled !== undefined && typeof (handled as Promise<unknown>).then === 'function') await handled;
          missed++;
        }
        this.#replayedUntil = { epoch: recovery.epoch, offset: recovery.offset };
      }
      result = { epoch: recovery.epoch, offset: recovery.offset, since, recovered: recovery.recovered, missed };
    }
    const frame: HistoryFrame =
      raw === '' ? { type: HISTORY_FRAME_TYPE, epoch: result.epoch, offset: result.offset } : { type: HISTORY_FRAME_TYPE, epoch: result.epoch, offset: result.offset, recovered: result.recovered, missed: result.missed };
    consumer.send(JSON.stringify(frame));
    return result;
  }
}

/** The client's `since` parameter (`''` when empty), or `null` when it did not ask to recover. */
function sinceParam(queryString: string): string | null {
  return queryString === '' ? null : new URLSearchParams(queryString).get(SINCE_PARAM);
}

/**
 * History recovery for `group` (one of the consumer's `groups`; `null` turns it off). Publish
 * with `groupSendWithHistory` so events carry positions; the server needs a `history` store.
 * @example
 * ```ts
 * readonly recovery = historyRecovery(this.group);
 * override features = [this.recovery];
 * override async connect() { this.accept(); const r = await this.recovery.recover(); … }
 * ```
 */
export function historyRecovery(group: string | null): HistoryRecoveryFeature {
  return new HistoryRecoveryFeature(group);
}
