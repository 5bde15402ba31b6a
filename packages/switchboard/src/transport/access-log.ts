/**
 * Access log lines in the format Channels (Daphne/runserver) users know:
 * `WebSocket HANDSHAKING /ws/chat/lobby/ [127.0.0.1:50605]`,
 * `HTTP GET /chat/ 200 [0.03, 127.0.0.1:50603]`. Each line also carries structured fields.
 */
import type { Logger } from '../logging.js';

/** Remote address as `host:port`. */
export function formatPeer(host: string | undefined, port: number | undefined): string {
  return `${host ?? '?'}:${port ?? '?'}`;
}

/** `WebSocket <EVENT> <path> [peer]` plus optional suffix (`code=1001`, `status=404`). */
export function logWebsocket(
  logger: Logger,
  event: 'HANDSHAKING' | 'CONNECT' | 'REJECT' | 'DISCONNECT',
  path: string,
  peer: string,
  extra: { code?: number; status?: number; reason?: string } = {},
): void {
  let line = `WebSocket ${event} ${path} [${peer}]`;
  if (extra.code !== undefined) line += ` code=${extra.code}`;
  if (extra.status !== undefined) line += ` status=${extra.status}`;
  if (extra.reason) line += ` (${extra.reason})`;
  logger.info({ ws: event, path, peer, ...extra }, line);
}

/** `HTTP <METHOD> <path> <status> [<seconds>, peer]`. */
export function logHttp(logger: Logger, method: string, url: string, status: number, seconds: number, peer: string): void {
  logger.info({ http: method, url, status, seconds, peer }, `HTTP ${method} ${url} ${status} [${seconds.toFixed(2)}, ${peer}]`);
}
