/**
 * History: the last events of a group, each with an `offset` within an `epoch`, so that a client
 * that reconnects gets exactly what it missed, or learns that it cannot (DESIGN.md §4; Centrifuge
 * history and recovery). History is a cache: durable data belongs in the database.
 */
import type { LayerMessage } from '../layers/channel-layer.js';
import type { HistoryPosition } from './position.js';

/**
 * An event as stored and published with history: the event given to `append`, frozen, with its
 * `epoch` and `offset` added at the top level (any `epoch`/`offset` of its own are replaced).
 */
export type HistoryEvent<T extends LayerMessage = LayerMessage> = T & HistoryPosition;

/** Result of {@link HistoryStore.since}. */
export type HistoryRecovery =
  | {
      /** Every event after the given position, in offset order, none missing. */
      readonly recovered: true;
      readonly epoch: string;
      /** The group's latest offset when the events were read (the last event's, or the given one). */
      readonly offset: number;
      readonly events: readonly HistoryEvent[];
    }
  | {
      /** The gap cannot be filled: the caller must reload its state. Nothing is replayed. */
      readonly recovered: false;
      /** The group's current epoch and latest offset: where to continue from. */
      readonly epoch: string;
      readonly offset: number;
    };

/** Options every history store takes. */
export interface HistoryStoreOptions {
  /** Events kept per group: a position more than this many events behind cannot recover. Default 100. */
  maxEvents?: number;
  /**
   * How long an event stays recoverable, in ms: a gap whose first missed event is older cannot
   * recover. The events of a group with no append for this long are dropped. Default 300_000 (5 min).
   */
  ttlMs?: number;
  /**
   * How long a group's epoch and latest offset outlive its last use (append, `since`, `position`),
   * in ms; at least `ttlMs`. While they live, a client whose position is the latest recovers with
   * nothing missed even after the events expired; after that the group gets a new epoch.
   * Default 86_400_000 (24 h).
   */
  metaTtlMs?: number;
}

/** Effective options, defaults filled in. */
export type ResolvedHistoryOptions = Readonly<Required<HistoryStoreOptions>>;

/** Default {@link HistoryStoreOptions}. */
export const DEFAULT_HISTORY_OPTIONS: ResolvedHistoryOptions = Object.freeze({ maxEvents: 100, ttlMs: 300_000, metaTtlMs: 86_400_000 });

/**
 * Fills in defaults and checks the options.
 * @throws RangeError for a `maxEvents` that is not a positive whole number, a non-positive or
 *   non-finite `ttlMs`/`metaTtlMs`, or a `metaTtlMs` below `ttlMs`.
 */
export function resolveHistoryOptions(options: HistoryStoreOptions = {}): ResolvedHistoryOptions {
  const maxEvents = options.maxEvents ?? DEFAULT_HISTORY_OPTIONS.maxEvents;
  const ttlMs = options.ttlMs ?? DEFAULT_HISTORY_OPTIONS.ttlMs;
  const metaTtlMs = options.metaTtlMs ?? Math.max(DEFAULT_HISTORY_OPTIONS.metaTtlMs, ttlMs);
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) throw new RangeError(`history option maxEvents must be a positive whole number of events, got ${String(maxEvents)}`);
  for (const [name, value] of [['ttlMs', ttlMs], ['metaTtlMs', metaTtlMs]] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`history option ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  if (metaTtlMs < ttlMs) throw new RangeError(`history option metaTtlMs (${metaTtlMs}) must be at least ttlMs (${ttlMs})`);
  return Object.freeze({ maxEvents, ttlMs: Math.ceil(ttlMs), metaTtlMs: Math.ceil(metaTtlMs) });
}

/**
 * Where per-group history lives (Centrifuge `Broker` history methods).
 *
 * Guarantees, tested by `runHistoryStoreConformance` (`switchboard/testing`):
 * - `append` is atomic: concurrent appends to one group, from any number of processes sharing the
 *   store, get distinct offsets, increasing by one in the order the store applied them.
 * - `since` is all or nothing: either every event after the position, in order, or
 *   `{recovered: false}`, never a partial replay.
 * - A group's epoch changes whenever its history was lost, so a position from before the loss
 *   never recovers against events from after it.
 */
export interface HistoryStore {
  /** The effective window options. */
  readonly options: ResolvedHistoryOptions;

  /**
   * Appends `event` to `group`'s history and resolves with it as stored: frozen, with `epoch`
   * and `offset` added. Publish that object (see `groupSendWithHistory`).
   * @throws {@link InvalidGroupNameError} for a bad group name; {@link InvalidMessageError} /
   *   {@link MessageTooLargeError} for an event the layer would refuse (1 MiB limit);
   *   {@link LayerUnavailableError} when the store's backend is unreachable.
   */
  append(group: string, event: LayerMessage): Promise<HistoryEvent>;

  /**
   * The events of `group` after `position`: all of them, or `{recovered: false}` when the epoch
   * differs, the position is ahead of the group, more than `maxEvents` events were missed, or the
   * first missed one is older than `ttlMs`. Refreshes the group's epoch lifetime (`metaTtlMs`).
   * @throws {@link InvalidGroupNameError}; {@link LayerUnavailableError}.
   */
  since(group: string, position: HistoryPosition): Promise<HistoryRecovery>;

  /**
   * `group`'s epoch and latest offset (0 before any append). The epoch is created and kept
   * (`metaTtlMs`) if the group had none, so it is stable across calls.
   * @throws {@link InvalidGroupNameError}; {@link LayerUnavailableError}.
   */
  position(group: string): Promise<HistoryPosition>;

  /** Drops every group's history of this store (Redis: under its key prefix). For tests. */
  flush(): Promise<void>;

  /** Releases timers and connections. Safe to call twice. */
  close(): Promise<void>;
}
