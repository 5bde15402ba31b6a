/**
 * Helpers shared by the parts of `npm run bench:reliability`: WebSocket clients that resolve
 * once open or closed, a soft deadline, and the result record every part returns.
 */
import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { waitFor } from 'switchboard/testing';

/** One row of the final table. */
export interface PartResult {
  readonly part: string;
  /** The figure, as printed: `"300/300 each"`, `"9.8 KB/connection"`. */
  readonly figure: string;
  /** What it must be for `ok`. */
  readonly expected: string;
  readonly ok: boolean;
}

/** Opens a client; resolves once open, rejects on a refused handshake or a socket error. */
export function openClient(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => undefined); // later errors show as a close code
      resolve(ws);
    });
    ws.once('error', reject);
  });
}

/** Closes `ws` (1000) and resolves once the close handshake is over, or it was cut after 5 s. */
export function closeClient(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => ws.terminate(), 5_000);
    ws.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
    if (ws.readyState !== WebSocket.CLOSING) ws.close(1000);
  });
}

/** Like `waitFor`, but answers `false` at the deadline instead of throwing. */
export async function settle(fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  try {
    await waitFor(fn, { timeoutMs, intervalMs: 20 });
    return true;
  } catch {
    return false;
  }
}

/** Open file descriptors of this process (Linux `/proc/self/fd`); `NaN` elsewhere. */
export function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Number.NaN;
  }
}

/** An env var as a whole number ≥ 0, or `fallback`. @throws RangeError for anything else. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** `12345` → `"12,345"`. */
export const count = (n: number): string => n.toLocaleString('en-US');

/** Close codes and how often, as `"4400×812 1009×40"`. */
export function formatCodes(codes: ReadonlyMap<number | string, number>): string {
  return [...codes].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([code, n]) => `${code}×${count(n)}`).join(' ') || 'none';
}

// `global.gc` without `--expose-gc` on the command line (the flag is read when a context is made).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** `process.memoryUsage()` after two full collections. */
export function collected(): NodeJS.MemoryUsage {
  gc();
  gc();
  return process.memoryUsage();
}

/** `3` → `"+3"`, `-1.25` with 1 digit → `"-1.3"`. */
export const signed = (n: number, digits = 0): string => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
