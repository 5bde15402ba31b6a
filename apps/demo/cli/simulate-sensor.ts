/**
 * `switchboard-demo simulate-sensor --sensor s1 --rate 5`: a simulated sensor in its own process that
 * feeds the demo's ingestion API (`POST /api/iot/<sensor>/readings`) as a real one would, so the
 * `/two/` chart has a live line. Wires its flags to `simulateSensor` (iot/simulate-sensor.ts),
 * loaded only when this subcommand runs.
 *
 * Exit codes: 0 `--count` readings sent, or stopped by SIGINT/SIGTERM; 1 failed at run time (server
 * unreachable or not answering, key refused (401), ingestion off on the server (503), any other
 * refused POST); 2 bad arguments (rate, count, sensor name, URL, no API key).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { SimulateSensorError } from '../iot/simulate-sensor.js';
import { defaultServerUrl } from './server-url.js';

/** Options of the subcommand, as commander parses them. */
export interface SimulateSensorCliOptions {
  url?: string;
  sensor: string;
  rate: number;
  count?: number;
  apiKey?: string;
  timeoutMs: number;
}

const SENSOR_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_RATE = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;

function parseRate(value: string): number {
  const n = /^[0-9]+(\.[0-9]+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0 || n > MAX_RATE) {
    throw new InvalidArgumentError(`the rate is readings per second, more than 0 and at most ${MAX_RATE} (e.g. 5, or 0.5 for one every 2 s).`);
  }
  return n;
}

function parseCount(value: string): number {
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('the count is a whole number of readings, e.g. 100.');
  return Number(value);
}

function parseSensor(value: string): string {
  if (!SENSOR_RE.test(value)) throw new InvalidArgumentError('a sensor name is 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-", e.g. s1.');
  return value;
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL; use e.g. http://127.0.0.1:8000');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('use an http:// or https:// URL, e.g. http://127.0.0.1:8000');
  return value;
}

function positiveMs(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError('a positive whole number of milliseconds.');
  return Number(value);
}

/** A `fetch` that gives up on a request after `timeoutMs` (and still honours the caller's signal). */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}

/**
 * Why a fetch failed: the first `code` down its `cause` chain (`ECONNREFUSED`, `ENOTFOUND`, ...),
 * `TimeoutError`, else the innermost message (undici's "fetch failed" says nothing by itself).
 */
function networkReason(err: unknown): string | undefined {
  let e: unknown = err;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if ((e as Error).name === 'TimeoutError') return 'TimeoutError';
    if (typeof (e as Error).message === 'string' && (e as Error).message !== '') message = (e as Error).message;
    e = (e as { cause?: unknown }).cause;
  }
  return message;
}

/** What to tell the user about a refused POST or a network failure. */
export function describeFailure(err: SimulateSensorError, origin: string, timeoutMs: number): string {
  switch (err.status) {
    case undefined: {
      const reason = networkReason(err.cause);
      const why = reason === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (reason ?? err.message);
      return `cannot reach the Switchboard server at ${origin} (${why}); start it with "npm start" (switchboard-demo serve) or pass --url`;
    }
    case 401:
      return `the server at ${origin} refused the API key (${err.message.replace(/^POST \S+ answered /, '')}); pass the server's IOT_API_KEY with --api-key or the IOT_API_KEY variable`;
    case 503:
      return `sensor ingestion is off on the server at ${origin}: start it with IOT_API_KEY set (16+ characters), then pass the same key here`;
    case 404:
      return `${err.message}; is --url the Switchboard demo?`;
    default:
      return err.message;
  }
}

/** The `simulate-sensor` subcommand. */
export function createSimulateSensorCommand(): Command {
  return new Command('simulate-sensor')
    .description('post simulated readings of a sensor to the demo\'s ingestion API (POST /api/iot/<sensor>/readings), for the /two/ chart')
    .option('-s, --sensor <name>', 'sensor name, [A-Za-z0-9_-]{1,64}', parseSensor, 's1')
    .option('-r, --rate <n>', 'readings per second, more than 0 and at most 10000 (above 10/s they are posted in batches)', parseRate, 1)
    .option('-n, --count <n>', 'stop after this many readings (default: run until Ctrl-C)', parseCount)
    .option('--url <url>', 'the demo server (default http://$HOST:$PORT, i.e. http://127.0.0.1:8000)', parseUrl)
    .option('--api-key <key>', 'the server\'s ingestion key (default $IOT_API_KEY; visible to other users in ps: prefer the variable)')
    .option('--timeout-ms <ms>', 'how long to wait for the server on each POST', positiveMs, DEFAULT_TIMEOUT_MS)
    .addHelpText(
      'after',
      `
Examples:
  IOT_API_KEY=... switchboard-demo simulate-sensor --sensor s1 --rate 5
  IOT_API_KEY=... switchboard-demo simulate-sensor --sensor kitchen --rate 0.5 --count 100 --url http://127.0.0.1:8000

Exit codes: 0 done (or stopped with Ctrl-C), 1 the server refused or could not be reached, 2 bad arguments.`,
    )
    .action(async (options: SimulateSensorCliOptions) => {
      const fail = (message: string, exitCode: 1 | 2): void => {
        process.stderr.write(`error: ${message}\n`);
        process.exitCode = exitCode;
      };
      const apiKey = (options.apiKey ?? process.env['IOT_API_KEY'] ?? '').trim();
      if (apiKey === '') {
        return fail('no API key: set IOT_API_KEY (or pass --api-key) to the key the server was started with', 2);
      }
      const url = options.url ?? defaultServerUrl(process.env);
      const origin = new URL(url).origin;

      // The demo's client; loaded only for `simulate-sensor`.
      const { simulateSensor, SimulateSensorError } = await import('../iot/simulate-sensor.js');

      const controller = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (controller.signal.aborted) process.exit(1);
        process.stderr.write(`${signal}: stopping\n`);
        controller.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const target = new URL(`api/iot/${options.sensor}/readings`, url.endsWith('/') ? url : `${url}/`).href;
      const until = options.count === undefined ? 'until Ctrl-C' : `${options.count} reading(s)`;
      process.stdout.write(`sensor ${options.sensor}: posting ${options.rate} reading(s)/s to ${target}, ${until}\n`);
      const started = performance.now();
      try {
        const { sent } = await simulateSensor({
          url,
          apiKey,
          sensor: options.sensor,
          ratePerSecond: options.rate,
          signal: controller.signal,
          fetch: fetchWithTimeout(options.timeoutMs),
          ...(options.count === undefined ? {} : { count: options.count }),
        });
        process.stdout.write(`sensor ${options.sensor}: sent ${sent} reading(s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      } catch (err) {
        if (err instanceof SimulateSensorError) return fail(describeFailure(err, origin, options.timeoutMs), 1);
        if (err instanceof RangeError) return fail(err.message, 2);
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
