/**
 * How a benchmark process sends its broadcasts, in the server (in-process fan-out) or in the
 * publisher (cross-process fan-out over Redis): `count` broadcasts, either at a fixed `rate`
 * (broadcasts per second, paced by a 5 ms timer that catches up, as a steady stream of producers
 * would send) or, with no rate, as fast as possible: `BATCH` concurrent broadcasts per event-loop
 * turn, as ten producers would send (awaiting each one before the next would measure a round
 * trip, not fan-out).
 */

/** Broadcasts per event-loop turn at saturation. */
export const BATCH = 10;

/** One broadcast, number `i`; a promise when it goes through a channel layer. */
export type Broadcast = (i: number) => void | Promise<unknown>;

/** Sends `count` broadcasts from `first` on, at `rate`/s or (rate 0) as fast as possible; resolves with the ms it took. */
export async function drive(broadcast: Broadcast, count: number, rate: number, first = 0): Promise<number> {
  const started = performance.now();
  if (rate > 0) {
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
        while (sent < due) void broadcast(first + sent++);
        if (sent >= count) resolve();
        else setTimeout(tick, 5);
      };
      tick();
    });
  } else {
    for (let i = 0; i < count; i += BATCH) {
      const sends: Array<void | Promise<unknown>> = [];
      for (let j = i; j < Math.min(i + BATCH, count); j++) sends.push(broadcast(first + j));
      await Promise.all(sends);
      await new Promise((r) => setImmediate(r));
    }
  }
  return performance.now() - started;
}
