/**
 * Request/reply on the client: `socket.request(type, data, { timeoutMs })` sends
 * `{type, requestId, data}` and settles with the server's `switchboard.reply` of the same id
 * (`wire/request.ts`; Socket.IO's `emitWithAck` with a timeout, Phoenix's push replies).
 */
import type { ReplyFrame } from '../wire/request.js';

/** A request that failed: the server's error reply, a timeout, or a lost connection. */
export class RequestError extends Error {
  /**
   * `SB_ERR_*`: what the server answered (`SB_ERR_BAD_REQUEST`, `SB_ERR_VALIDATION`,
   * `SB_ERR_NO_REQUEST_HANDLER`, `SB_ERR_INTERNAL`, …), or `SB_ERR_TIMEOUT` (no reply within
   * `timeoutMs`), `SB_ERR_CONNECTION_LOST` (the connection closed after the request was sent:
   * it may or may not have run), `SB_ERR_CLOSED` (the socket was closed for good).
   */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
  }
}

interface Pending {
  readonly resolve: (data: unknown) => void;
  readonly reject: (err: RequestError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Sent on the current connection (a reply may come), or still queued for the next one. */
  sent: boolean;
}

/** The requests of one socket, by id. */
export class PendingRequests {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  /** Registers a request; returns its id and the promise of its reply's data. */
  create(timeoutMs: number, type: string): { id: number; reply: Promise<unknown> } {
    const id = this.#nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RequestError('SB_ERR_TIMEOUT', `no reply to ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, sent: false });
    });
    return { id, reply };
  }

  /** The request's frame went out on the open connection. */
  markSent(id: number): void {
    const p = this.#pending.get(id);
    if (p !== undefined) p.sent = true;
  }

  /** Settles the request a reply frame answers; ignores replies to unknown (timed out) ids. */
  settle(frame: ReplyFrame): void {
    const p = this.#pending.get(frame.requestId);
    if (p === undefined) return;
    this.#pending.delete(frame.requestId);
    clearTimeout(p.timer);
    if (frame.ok) p.resolve(frame.data);
    else p.reject(new RequestError(frame.error.code, frame.error.message));
  }

  /** The connection closed: requests already sent cannot be answered any more. */
  connectionLost(closedForGood: boolean): void {
    for (const [id, p] of this.#pending) {
      if (!p.sent && !closedForGood) continue; // still queued: goes out on the next connection
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(closedForGood && !p.sent ? new RequestError('SB_ERR_CLOSED', 'the socket closed before the request was sent') : new RequestError('SB_ERR_CONNECTION_LOST', 'the connection closed before the reply came; the request may or may not have run'));
    }
  }
}
