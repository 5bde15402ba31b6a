/**
 * Guests' names, bound to a token only the server can make. A visitor who is not logged in chats
 * and plays as `guest-xxxxxx`; the `sb_guest` cookie carries that name **and** a signature,
 * `guest-xxxxxx.<HMAC-SHA256(SECRET_KEY, "guest:" + name), 22 base64url characters>`. The name is
 * visible to everyone in a room; the signature never is, so setting `sb_guest=<a name seen in a
 * room>` (or any value without the right signature) gets a fresh name instead of someone else's.
 *
 * HTTP pages issue the cookie ({@link GuestIdentity.cookieValue}); on the WebSocket side
 * {@link GuestMiddleware} checks it and puts the name in `scope.extensions.guestName`, which the
 * chat and dice consumers read through {@link guestNameOf}. Processes of one site share
 * `SECRET_KEY`, so a cookie issued by one is honoured by all.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { asApplication, type ResolvedConsumer, type Scope, type WebsocketApplication, type WebsocketTarget } from 'switchboard';

/** Cookie that holds the visitor's signed guest name (set by the HTTP pages). */
export const GUEST_COOKIE = 'sb_guest';

/** Shape of a guest name. */
export const GUEST_NAME_PATTERN = /^guest-[a-z0-9]{4,12}$/;

/** Key of the checked guest name in `scope.extensions` (set by {@link GuestMiddleware}). */
export const GUEST_SCOPE_KEY = 'guestName';

/** Characters of the signature in the cookie (132 bits). */
const SIGNATURE_CHARS = 22;

const GUEST_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh guest name: `guest-` and 6 random characters from `[a-z0-9]` (crypto RNG). */
export function newGuestName(): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += GUEST_ALPHABET[randomInt(GUEST_ALPHABET.length)];
  return `guest-${suffix}`;
}

/** Whether `value` is a well-formed guest name (its shape only; see {@link GuestIdentity.nameOf} for the cookie). */
export function isGuestName(value: unknown): value is string {
  return typeof value === 'string' && GUEST_NAME_PATTERN.test(value);
}

/** Issues and checks signed guest-name cookies with one key. */
export class GuestIdentity {
  readonly #secretKey: string;

  /**
   * @param secretKey - the demo's `SECRET_KEY` (at least 32 characters); every process of a site
   *   must use the same one.
   * @throws RangeError for a key shorter than 32 characters.
   */
  constructor(secretKey: string) {
    if (typeof secretKey !== 'string' || secretKey.length < 32) throw new RangeError('GuestIdentity: the secret key must have at least 32 characters');
    this.#secretKey = secretKey;
  }

  #signature(name: string): string {
    return createHmac('sha256', this.#secretKey).update(`guest:${name}`).digest('base64url').slice(0, SIGNATURE_CHARS);
  }

  /** The `sb_guest` cookie value for `name`: `name.signature`. @throws RangeError for a name that is not a guest name. */
  cookieValue(name: string): string {
    if (!isGuestName(name)) throw new RangeError(`GuestIdentity.cookieValue(${JSON.stringify(name)}): not a guest name (${GUEST_NAME_PATTERN.source})`);
    return `${name}.${this.#signature(name)}`;
  }

  /**
   * The guest name a cookie value stands for, or `null` when it is missing, malformed or its
   * signature is wrong. `value` comes from the client: only compared, in constant time.
   */
  nameOf(value: unknown): string | null {
    if (typeof value !== 'string' || value.length > 64) return null;
    const dot = value.indexOf('.');
    if (dot === -1) return null;
    const name = value.slice(0, dot);
    if (!isGuestName(name)) return null;
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.#signature(name));
    return given.length === expected.length && timingSafeEqual(given, expected) ? name : null;
  }
}

/**
 * WebSocket middleware: puts the guest name of a correctly signed `sb_guest` cookie in
 * `scope.extensions.guestName` (nothing for a missing or forged one). Put it after
 * `CookieMiddleware` (it reads `scope.cookies`).
 */
export class GuestMiddleware implements WebsocketApplication {
  readonly #inner: WebsocketApplication;
  readonly #identity: GuestIdentity;

  /** @throws TypeError for a bad `inner`. */
  constructor(inner: WebsocketTarget, identity: GuestIdentity) {
    this.#inner = asApplication(inner);
    this.#identity = identity;
  }

  resolve(scope: Scope): ResolvedConsumer | null | Promise<ResolvedConsumer | null> {
    const name = this.#identity.nameOf(scope.cookies[GUEST_COOKIE]);
    if (name === null) return this.#inner.resolve(scope);
    return this.#inner.resolve({ ...scope, extensions: { ...scope.extensions, [GUEST_SCOPE_KEY]: name } });
  }
}

/**
 * The guest name of a connection: the one {@link GuestMiddleware} checked, else a fresh name
 * for this connection alone.
 */
export function guestNameOf(scope: Scope): string {
  const name = scope.extensions[GUEST_SCOPE_KEY];
  return isGuestName(name) ? name : newGuestName();
}

let processIdentity: GuestIdentity | undefined;

/**
 * A {@link GuestIdentity} with a random key made once per process: the default of the HTTP app
 * and the WebSocket application when they are given none (unit tests, one process). The demo
 * passes one on its `SECRET_KEY` instead, so that several processes agree.
 */
export function processGuestIdentity(): GuestIdentity {
  processIdentity ??= new GuestIdentity(randomBytes(32).toString('base64url'));
  return processIdentity;
}
