/**
 * History positions on the wire: the `since` query parameter a client reconnects with and the
 * `switchboard.history` frame the server answers. No imports, so the browser client bundles this
 * file as it bundles `close-codes.ts` (DESIGN.md §1).
 */

/**
 * A place in a group's history (Centrifuge `StreamPosition`): `offset` counts the events appended
 * to the group (1 for the first, 0 before any), within `epoch`, a random string that changes when
 * the history was lost (a new in-memory store, a Redis restart, an expired stream). Offsets of two
 * epochs cannot be compared.
 */
export interface HistoryPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** Query parameter that carries the client's last position: `?since=<epoch>:<offset>`. */
export const SINCE_PARAM = 'since';

/**
 * `type` of the frame the server sends after a recovery step (see {@link HistoryFrame}). Types
 * starting with `switchboard.` are reserved for such control frames.
 */
export const HISTORY_FRAME_TYPE = 'switchboard.history';

/**
 * The frame a consumer sends to a client that passed `since` (empty or not), after the missed
 * events: where the client continues from, and whether the gap was filled.
 */
export interface HistoryFrame extends HistoryPosition {
  readonly type: typeof HISTORY_FRAME_TYPE;
  /**
   * Present when the client gave a position: `true` when every event it missed was sent before
   * this frame, `false` when that was impossible (another epoch, a gap beyond the window, an
   * unreadable position): the client must reload its state. Absent for an empty `since=` (a client
   * that asks where the history stands, e.g. on its first connection).
   */
  readonly recovered?: boolean;
  /** With `recovered`: how many missed events were sent before this frame. */
  readonly missed?: number;
}

const EPOCH_RE = /^[A-Za-z0-9_-]{1,64}$/;
const OFFSET_RE = /^\d{1,15}$/;

/** Whether `value` has a usable `epoch` (1–64 of `[A-Za-z0-9_-]`) and `offset` (a whole number ≥ 0). */
export function isHistoryPosition(value: unknown): value is HistoryPosition {
  if (value === null || typeof value !== 'object') return false;
  const { epoch, offset } = value as { epoch?: unknown; offset?: unknown };
  return typeof epoch === 'string' && EPOCH_RE.test(epoch) && typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0;
}

/** `<epoch>:<offset>`, the value of the `since` parameter. */
export function formatSince(position: HistoryPosition): string {
  return `${position.epoch}:${position.offset}`;
}

/**
 * Reads a `since` value. `value` comes from the client: untrusted.
 * @returns the position; `null` for an empty or unreadable value.
 */
export function parseSince(value: string): HistoryPosition | null {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return null;
  const epoch = value.slice(0, colon);
  const offset = value.slice(colon + 1);
  if (!EPOCH_RE.test(epoch) || !OFFSET_RE.test(offset)) return null;
  return { epoch, offset: Number(offset) };
}
