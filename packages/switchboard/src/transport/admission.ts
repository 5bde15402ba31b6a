/**
 * Admission before the handshake (docs/architecture.md, "Safe defaults"): a cap on the
 * handshakes one IP address may have in progress, so that slowloris or half-open upgrade requests
 * from one client cannot take every file descriptor. A socket counts against its address from the
 * moment the server sees it (its `connection`, or its `upgrade` on a server someone else owns)
 * until its first request's headers are in and, for an upgrade, until the handshake ends (101 or
 * a refusal), or the socket closes.
 */
import type { Duplex } from 'node:stream';

/** The client address a socket counts against: IPv4-mapped IPv6 addresses as plain IPv4. */
export function clientAddress(socket: Duplex): string {
  const address = (socket as { remoteAddress?: string }).remoteAddress ?? '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Pending handshakes per client address, with a cap. */
export class PendingHandshakes {
  readonly #limit: number;
  readonly #perAddress = new Map<string, number>();
  /** Sockets counted now, with the address they count against. */
  readonly #counted = new WeakMap<Duplex, string>();

  /** One `close` listener for every counted socket (`this` is the socket), removed on release. */
  readonly #onClose: (this: Duplex) => void;

  /** @param limit - most pending handshakes per address; `Infinity` for no cap. */
  constructor(limit: number) {
    this.#limit = limit;
    const pending = this;
    this.#onClose = function (this: Duplex): void {
      pending.release(this);
    };
  }

  /** Pending handshakes from `address` now. */
  count(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /**
   * Counts `socket` against its address, once (a socket counted already stays counted).
   * @returns `false`, counting nothing, when its address is at the cap.
   */
  admit(socket: Duplex): boolean {
    if (this.#counted.has(socket)) return true;
    const address = clientAddress(socket);
    const n = this.count(address);
    if (n >= this.#limit) return false;
    this.#perAddress.set(address, n + 1);
    this.#counted.set(socket, address);
    socket.once('close', this.#onClose);
    return true;
  }

  /** Stops counting `socket` (its headers are in and it is no handshake, or its handshake ended). */
  release(socket: Duplex): void {
    const address = this.#counted.get(socket);
    if (address === undefined) return;
    this.#counted.delete(socket);
    socket.off('close', this.#onClose);
    const n = this.count(address) - 1;
    if (n > 0) this.#perAddress.set(address, n);
    else this.#perAddress.delete(address);
  }
}
