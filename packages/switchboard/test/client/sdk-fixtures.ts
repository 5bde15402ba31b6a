/**
 * What the client SDK tests share: consumers to talk to (an echo, a news feed with history), a
 * gate in front of them that can refuse handshakes with an HTTP status and records every one it
 * sees, and a recorder of a `SwitchboardSocket`'s events.
 */
import { HandshakeRejectedError, historyRecovery, JsonWebsocketConsumer, URLRouter, path, withPosition, type LayerMessage, type ResolvedConsumer, type Scope, type WebsocketApplication } from 'switchboard';
import type { Events, SwitchboardSocket } from 'switchboard/client';

/** Echoes `{echo}`; `{close: code}` makes the server close the connection with that code. */
export class EchoConsumer extends JsonWebsocketConsumer {
  override receiveJson(content: unknown): void {
    const c = content as { close?: number; echo?: unknown };
    if (typeof c.close === 'number') this.close(c.close);
    else this.sendJson({ echo: c.echo });
  }
}

/** A news feed with history: forwards `{text}` with the event's epoch and offset; `{close: code}` as above. */
export class FeedConsumer extends JsonWebsocketConsumer {
  override groups = ['news'];
  override features = [historyRecovery('news')];
  override receiveJson(content: unknown): void {
    const c = content as { close?: number };
    if (typeof c.close === 'number') this.close(c.close);
  }
  newsItem(event: LayerMessage): void {
    this.sendJson(withPosition(event, event['payload'] as object));
  }
}

/** One handshake the gate saw: its path and query string. */
export interface SeenHandshake {
  path: string;
  queryString: string;
}

/**
 * Routes `ws/echo/` and `ws/news/`; while `refuse` is set, refuses every handshake with that
 * HTTP status (before routing, as auth middleware does). Records each handshake it sees.
 */
export class Gate implements WebsocketApplication {
  refuse: number | undefined;
  readonly seen: SeenHandshake[] = [];
  readonly #router = new URLRouter([path('ws/echo/', EchoConsumer), path('ws/news/', FeedConsumer)]);

  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    this.seen.push({ path: scope.path, queryString: scope.queryString });
    if (this.refuse !== undefined) throw new HandshakeRejectedError(this.refuse, `the gate refuses with ${this.refuse}`);
    return this.#router.resolve(scope);
  }

  /** How many handshakes reached the gate for `path`. */
  count(path: string): number {
    return this.seen.filter((h) => h.path === path).length;
  }
}

/** Every event of a socket, in order, by kind. */
export interface SocketLog {
  messages: unknown[];
  opens: number;
  closes: Array<Events['close']>;
  errors: Array<Events['error']>;
  giveups: Array<Events['giveup']>;
  states: Array<Events['state']>;
  recoveries: Array<Events['recovery']>;
}

/** Subscribes to every event of `socket`. */
export function record(socket: SwitchboardSocket): SocketLog {
  const log: SocketLog = { messages: [], opens: 0, closes: [], errors: [], giveups: [], states: [], recoveries: [] };
  socket.on('message', (m) => log.messages.push(m));
  socket.on('open', () => log.opens++);
  socket.on('close', (c) => log.closes.push(c));
  socket.on('error', (e) => log.errors.push(e));
  socket.on('giveup', (g) => log.giveups.push(g));
  socket.on('state', (s) => log.states.push(s));
  socket.on('recovery', (r) => log.recoveries.push(r));
  return log;
}

/** Small delays so that retries happen within a test; `random` near 1 makes each delay its upper bound. */
export const FAST = { minDelayMs: 20, maxDelayMs: 80 } as const;

/** Resolves after `ms`: only to show that something does NOT happen (no retry after giving up). */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
