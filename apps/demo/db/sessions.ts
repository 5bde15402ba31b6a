/**
 * `DatabaseSessionStore`: sessions in the `sessions` table, shared by every process and by the
 * HTTP and WebSocket sides. The cookie carries a random 32-byte key (base64url); the table holds
 * only its SHA-256, so a leaked table or backup does not hand out live sessions (the key cannot be
 * recovered from the hash, and a 256-bit random key needs no salt or slow hash).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { SessionData, SessionStore } from 'switchboard';
import type { DatabaseSchema } from './database.js';

/** A new key: 32 bytes from the CSPRNG (256 bits), base64url, so it goes in a cookie as is. */
function newSessionKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `key` (from a cookie: untrusted) has the shape of a key made here: 43 base64url characters. */
export function isWellFormedSessionKey(key: unknown): key is string {
  return typeof key === 'string' && /^[A-Za-z0-9_-]{43}$/.test(key);
}

/** Hex SHA-256 of a session key: the `sessions.id_hash` / `logged_in_users.session_key_hash` value. */
export function hashSessionKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Largest session accepted, once JSON-encoded. Sessions hold ids and flags, not content. */
export const MAX_SESSION_BYTES = 64 * 1024;

/** Options of {@link DatabaseSessionStore}. */
export interface DatabaseSessionStoreOptions {
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * A {@link SessionStore} on the demo database (SQLite or PostgreSQL), with the guarantees the
 * interface lists: keys are 256 random bits, unknown/malformed/expired keys load `null` without
 * a query error, `save` never adopts a key that is not live, `rotate` runs in one transaction.
 *
 * Expired rows stay until {@link DatabaseSessionStore.purgeExpired} runs (the demo runs it
 * periodically); until then they are ignored by every read.
 */
export class DatabaseSessionStore implements SessionStore {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #now: () => number;

  constructor(db: Kysely<DatabaseSchema>, options: DatabaseSessionStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  /** `key` comes from the client's cookie: a malformed one is `null` without touching the database. */
  async load(key: string): Promise<SessionData | null> {
    if (!isWellFormedSessionKey(key)) return null;
    const row = await this.#db
      .selectFrom('sessions')
      .select(['data'])
      .where('id_hash', '=', hashSessionKey(key))
      .where('expires_at', '>', this.#now())
      .executeTakeFirst();
    if (!row) return null;
    try {
      const data: unknown = JSON.parse(row.data);
      return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as SessionData) : null;
    } catch {
      return null;
    }
  }

  /**
   * @throws RangeError for a non-positive `ttlMs` or data over {@link MAX_SESSION_BYTES};
   *   TypeError for data that is not JSON-serialisable.
   */
  async save(key: string | null, data: SessionData, ttlMs: number): Promise<string> {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`session ttlMs must be a positive number of milliseconds; got ${ttlMs}`);
    const json = JSON.stringify(data);
    if (typeof json !== 'string') throw new TypeError('session data must be a JSON-serialisable object');
    if (Buffer.byteLength(json) > MAX_SESSION_BYTES) throw new RangeError(`session data is ${Buffer.byteLength(json)} bytes; the limit is ${MAX_SESSION_BYTES}`);
    const now = this.#now();
    const expiresAt = now + ttlMs;
    if (key !== null && isWellFormedSessionKey(key)) {
      const result = await this.#db
        .updateTable('sessions')
        .set({ data: json, expires_at: expiresAt })
        .where('id_hash', '=', hashSessionKey(key))
        .where('expires_at', '>', now)
        .executeTakeFirst();
      if (result.numUpdatedRows > 0n) return key;
    }
    const fresh = newSessionKey();
    await this.#db.insertInto('sessions').values({ id_hash: hashSessionKey(fresh), data: json, expires_at: expiresAt }).execute();
    return fresh;
  }

  async destroy(key: string): Promise<void> {
    if (!isWellFormedSessionKey(key)) return;
    await this.#db.deleteFrom('sessions').where('id_hash', '=', hashSessionKey(key)).execute();
  }

  /** Copies the row to a new key and deletes the old one, in one transaction. */
  async rotate(key: string): Promise<string | null> {
    if (!isWellFormedSessionKey(key)) return null;
    const oldHash = hashSessionKey(key);
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('sessions')
        .select(['data', 'expires_at'])
        .where('id_hash', '=', oldHash)
        .where('expires_at', '>', this.#now())
        .executeTakeFirst();
      if (!row) return null;
      const fresh = newSessionKey();
      await trx.insertInto('sessions').values({ id_hash: hashSessionKey(fresh), data: row.data, expires_at: Number(row.expires_at) }).execute();
      // Cascades to logged_in_users rows of the old key.
      await trx.deleteFrom('sessions').where('id_hash', '=', oldHash).execute();
      return fresh;
    });
  }

  /** Deletes expired sessions (and, by cascade, their `logged_in_users` rows). Returns how many. */
  async purgeExpired(): Promise<number> {
    const result = await this.#db.deleteFrom('sessions').where('expires_at', '<=', this.#now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
