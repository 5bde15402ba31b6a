/**
 * A simulated sensor that feeds the ingestion API from another process, as a real one would:
 * `switchboard simulate-sensor --sensor s1 --rate 5` (the CLI wires its flags to
 * {@link simulateSensor}). Values follow a bounded random walk in 0..100, so the chart looks like a
 * measurement rather than noise.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Options of {@link simulateSensor}. */
export interface SimulateSensorOptions {
  /** Base URL of the demo, e.g. `http://127.0.0.1:8000` (the API path is appended). */
  url: string;
  /** The ingestion API key (`IOT_API_KEY`). */
  apiKey: string;
  /** Sensor name, `^[A-Za-z0-9_-]{1,64}$`. */
  sensor: string;
  /** Readings per second, > 0 and at most 10_000. Above 10/s readings are posted in batches. */
  ratePerSecond: number;
  /** Stop after this many readings. Default: run until `signal` aborts. */
  count?: number;
  /** Stops the simulation; the promise then resolves with what was sent so far. */
  signal?: AbortSignal;
  /** Called after each accepted POST. */
  onPosted?: (info: { sent: number; batch: number }) => void;
  /** `fetch` to use (tests). Default: the global one. */
  fetch?: typeof fetch;
}

/** A POST the API refused, or a network failure. */
export class SimulateSensorError extends Error {
  /** HTTP status, or `undefined` for a network error. */
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SimulateSensorError';
    this.status = status;
  }
}

/**
 * Posts readings to `POST <url>/api/iot/<sensor>/readings` at `ratePerSecond` until `count`
 * readings were accepted or `signal` aborts. Ticks at most every 100 ms; each tick posts the
 * readings due by then (one object, or an array when several are due), so the rate holds without
 * drift and at high rates without one request per reading.
 *
 * @returns the number of readings accepted.
 * @throws {@link SimulateSensorError} on the first refused POST (401 wrong key, 400, 413, ...) or
 *   network error, naming the status and the server's message.
 * @throws RangeError for a bad rate, count, sensor name or URL.
 */
export async function simulateSensor(options: SimulateSensorOptions): Promise<{ sent: number }> {
  const { apiKey, sensor, ratePerSecond, count, signal } = options;
  const doFetch = options.fetch ?? fetch;
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0 || ratePerSecond > 10_000) {
    throw new RangeError(`simulateSensor: rate must be more than 0 and at most 10000 readings per second, got ${ratePerSecond}`);
  }
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 0)) throw new RangeError(`simulateSensor: count must be a whole number >= 0, got ${count}`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(sensor)) throw new RangeError(`simulateSensor: sensor ${JSON.stringify(sensor)} must be 1 to 64 characters of [A-Za-z0-9_-]`);
  let endpoint: URL;
  try {
    endpoint = new URL(`api/iot/${sensor}/readings`, options.url.endsWith('/') ? options.url : `${options.url}/`);
  } catch {
    throw new RangeError(`simulateSensor: ${JSON.stringify(options.url)} is not a URL; use e.g. http://127.0.0.1:8000`);
  }

  const tickMs = Math.max(1000 / ratePerSecond, 100);
  const start = performance.now();
  let value = 50;
  let sent = 0;
  for (;;) {
    if (signal?.aborted || (count !== undefined && sent >= count)) break;
    const due = Math.floor(((performance.now() - start) * ratePerSecond) / 1000) + 1;
    let n = Math.min(due - sent, 1000);
    if (count !== undefined) n = Math.min(n, count - sent);
    if (n > 0) {
      const now = Date.now();
      const readings = Array.from({ length: n }, (_, i) => {
        value = Math.min(100, Math.max(0, value + (Math.random() - 0.5) * 10));
        return { value: Math.round(value * 100) / 100, ts: new Date(now - Math.round(((n - 1 - i) * 1000) / ratePerSecond)).toISOString() };
      });
      let res: Response;
      try {
        res = await doFetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(n === 1 ? readings[0] : readings),
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (err) {
        if (signal?.aborted) break;
        throw new SimulateSensorError(`POST ${endpoint.href} failed: ${(err as Error).message}`, undefined, err);
      }
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? text;
        } catch {
          // not JSON: keep the text
        }
        throw new SimulateSensorError(`POST ${endpoint.href} answered ${res.status}: ${message.slice(0, 200)}`, res.status);
      }
      await res.body?.cancel().catch(() => undefined);
      sent += n;
      options.onPosted?.({ sent, batch: n });
    }
    if (count !== undefined && sent >= count) break;
    try {
      await delay(tickMs, undefined, signal === undefined ? undefined : { signal });
    } catch {
      break; // aborted
    }
  }
  return { sent };
}
