/**
 * The client's history position, contiguous: "everything up to here was received" (issue: live
 * delivery can bring offset N+1 before N when two processes publish to one group; reconnecting
 * from the highest offset seen would skip N). Offsets seen beyond a gap are remembered, so the
 * replay after a reconnect does not show them twice.
 */
import type { HistoryPosition } from '../history/position.js';

/** Offsets remembered beyond a gap, at most; past it the gap is given up (the position jumps). */
const MAX_AHEAD = 10_000;

export class PositionTracker {
  #position: HistoryPosition | null = null;
  readonly #ahead = new Set<number>();

  get position(): HistoryPosition | null {
    return this.#position;
  }

  /** Sets the position the server stated (`switchboard.history`): everything before it arrived. */
  reset(position: HistoryPosition): void {
    this.#position = { epoch: position.epoch, offset: position.offset };
    for (const offset of this.#ahead) if (offset <= position.offset) this.#ahead.delete(offset);
  }

  /**
   * Records an event's position; `false` when it was already received (a duplicate to drop).
   * A new epoch starts over from the event.
   */
  see(position: HistoryPosition): boolean {
    const current = this.#position;
    if (current === null || current.epoch !== position.epoch) {
      this.#ahead.clear();
      this.#position = { epoch: position.epoch, offset: position.offset };
      return true;
    }
    if (position.offset <= current.offset || this.#ahead.has(position.offset)) return false;
    if (position.offset === current.offset + 1) {
      let offset = position.offset;
      while (this.#ahead.delete(offset + 1)) offset++;
      this.#position = { epoch: current.epoch, offset };
    } else {
      this.#ahead.add(position.offset);
      if (this.#ahead.size > MAX_AHEAD) {
        // Give the gap up: continue from the lowest offset seen beyond it.
        let offset = Math.min(...this.#ahead);
        this.#ahead.delete(offset);
        while (this.#ahead.delete(offset + 1)) offset++;
        this.#position = { epoch: current.epoch, offset };
      }
    }
    return true;
  }
}
