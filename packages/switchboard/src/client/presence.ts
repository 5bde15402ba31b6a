/**
 * The client's presence list, kept from the server's `presence.state` and `presence.diff` frames
 * (`wire/presence.ts`); joins and leaves are reported per key, once (a diff the list already
 * reflects, e.g. the member's own join after the state, changes nothing).
 */
import { PRESENCE_DIFF_TYPE, PRESENCE_STATE_TYPE, type PresenceMeta } from '../wire/presence.js';

/** A change of the presence list. */
export interface PresenceChange {
  /** Keys that appeared. */
  readonly joins: readonly string[];
  /** Keys that left. */
  readonly leaves: readonly string[];
}

/** Whether `frame` is a presence frame this module handles. */
export function isPresenceFrame(frame: { type?: unknown }): boolean {
  return frame.type === PRESENCE_STATE_TYPE || frame.type === PRESENCE_DIFF_TYPE;
}

/** Who is here, by key. */
export class PresenceList {
  readonly entries = new Map<string, PresenceMeta>();

  /** Applies a presence frame; the change, or `null` when nothing changed. */
  apply(frame: { type?: unknown; presences?: unknown; joins?: unknown; leaves?: unknown; updates?: unknown }): PresenceChange | null {
    const joins: string[] = [];
    const leaves: string[] = [];
    const record = (v: unknown): Record<string, PresenceMeta> => (v !== null && typeof v === 'object' ? (v as Record<string, PresenceMeta>) : {});
    if (frame.type === PRESENCE_STATE_TYPE) {
      const next = record(frame.presences);
      for (const key of this.entries.keys()) if (!(key in next)) leaves.push(key);
      for (const key of leaves) this.entries.delete(key);
      for (const [key, meta] of Object.entries(next)) {
        if (!this.entries.has(key)) joins.push(key);
        this.entries.set(key, meta);
      }
    } else {
      for (const [key, meta] of Object.entries(record(frame.joins))) {
        if (!this.entries.has(key)) joins.push(key);
        this.entries.set(key, meta);
      }
      for (const [key, meta] of Object.entries(record(frame.updates))) {
        if (this.entries.has(key)) this.entries.set(key, meta);
      }
      for (const key of Object.keys(record(frame.leaves))) {
        if (this.entries.delete(key)) leaves.push(key);
      }
    }
    return joins.length === 0 && leaves.length === 0 ? null : { joins, leaves };
  }
}
