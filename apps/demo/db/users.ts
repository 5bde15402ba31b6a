/**
 * User accounts: creation with rules on usernames and passwords, scrypt password hashes
 * (`node:crypto`, a fresh random salt per user), and authentication whose answer and timing are
 * the same for a wrong password and an unknown user.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { SwitchboardError } from 'switchboard';
import type { DatabaseSchema } from './database.js';

/** Allowed usernames: 1 to 32 of `A-Z a-z 0-9 _ . -`. Unique ignoring case. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
/** Shortest password accepted at sign-up (Django's `MinimumLengthValidator` default). */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted (bounds the hashing work an attacker can ask for). */
export const MAX_PASSWORD_LENGTH = 1024;

/** A username that breaks {@link USERNAME_PATTERN}. */
export class InvalidUsernameError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_USERNAME', message);
  }
}

/** A password that breaks the password rules. The message never contains the password. */
export class InvalidPasswordError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_INVALID_PASSWORD', message);
  }
}

/** Sign-up with a username that exists already (ignoring case). */
export class UsernameTakenError extends SwitchboardError {
  constructor(username: string) {
    super('SB_ERR_USERNAME_TAKEN', `the username ${JSON.stringify(username)} is taken; choose another`);
  }
}

/** An account, without its password hash. */
export interface User {
  readonly id: number;
  readonly username: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * Names a sign-up may not take, ignoring case: the chat shows guests as `guest-…` and pushes from
 * the command line as `server`, so an account under those names could pass for them.
 */
export const RESERVED_USERNAME_PATTERN = /^(guest-.*|server|archive|admin)$/i;

/**
 * @throws {@link InvalidUsernameError} unless `username` matches {@link USERNAME_PATTERN} and not
 *   {@link RESERVED_USERNAME_PATTERN}.
 */
export function validateUsername(username: unknown): string {
  if (typeof username !== 'string' || !USERNAME_PATTERN.test(username)) {
    throw new InvalidUsernameError('usernames have 1 to 32 characters: letters A-Z a-z, digits, and _ . -');
  }
  if (RESERVED_USERNAME_PATTERN.test(username)) {
    throw new InvalidUsernameError(`the username ${JSON.stringify(username)} is reserved (guest-…, server, archive and admin are); choose another`);
  }
  return username;
}

/** @throws {@link InvalidPasswordError} for a password that is too short, too long or the username. */
export function validatePassword(password: unknown, username?: string): string {
  if (typeof password !== 'string') throw new InvalidPasswordError('a password is required');
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidPasswordError(`passwords have at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidPasswordError(`passwords have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (username !== undefined && password.toLowerCase() === username.toLowerCase()) {
    throw new InvalidPasswordError('the password cannot be the username');
  }
  return password;
}

// ---- password hashing -------------------------------------------------------------------------

/** scrypt cost parameters. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. Default 15 (N = 32768, 32 MiB with r = 8). */
  log2N: number;
  /** Block size. Default 8. */
  r: number;
  /** Parallelism. Default 1. */
  p: number;
}

/**
 * Default cost: N = 2^15, r = 8, p = 1 (32 MiB and about 130 ms per hash on this project's 2-core
 * machine). That is below the OWASP Password Storage Cheat Sheet's scrypt minimum (N = 2^17, r = 8,
 * p = 1, or an equivalent such as N = 2^15, r = 8, p = 3), a trade-off for a demo on small hardware;
 * each hash records its own parameters, so raising them later only affects new hashes.
 */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ log2N: 15, r: 8, p: 1 });

const KEY_BYTES = 64;
const SALT_BYTES = 16;

function scryptAsync(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  // Node refuses when 128 * N * r exceeds maxmem (default 32 MiB): allow twice what is needed.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r };
  return new Promise((resolve, reject) => {
    // Runs on libuv's thread pool: the event loop keeps serving while a hash is computed.
    scrypt(password.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Hashes `password` with scrypt and a fresh 16-byte random salt.
 * @returns `scrypt$<log2 N>$<r>$<p>$<salt, base64>$<64-byte key, base64>`: self-describing, so
 *   the cost can be raised later without breaking existing hashes.
 */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_BYTES, params);
  return `scrypt$${params.log2N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [log2N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Bounds keep a corrupted row from asking for gigabytes of memory.
  if (!Number.isInteger(log2N) || log2N < 10 || log2N > 20) return null;
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return null;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return null;
  return { params: { log2N, r, p }, salt, key };
}

/**
 * Whether `password` matches a hash made by {@link hashPassword}. Compares in constant time
 * (`timingSafeEqual`). A malformed hash is `false`, never an exception.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const key = await scryptAsync(password, parsed.salt, parsed.key.length, parsed.params);
  return timingSafeEqual(key, parsed.key);
}

// ---- repository -------------------------------------------------------------------------------

/** Options of {@link UserRepository}. */
export interface UserRepositoryOptions {
  /** Cost of new hashes. Default {@link DEFAULT_SCRYPT_PARAMS}; tests may lower `log2N` to 14. */
  scrypt?: ScryptParams;
  /**
   * Checks a password against a stored hash. Default {@link verifyPassword}; a test wraps it to
   * see that every `authenticate` does the same work.
   */
  verify?: (password: string, stored: string) => Promise<boolean>;
}

/** Whether `err` is a unique-constraint violation (SQLite or PostgreSQL). */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

function toUser(row: { id: number; username: string; created_at: number }): User {
  return { id: Number(row.id), username: row.username, createdAt: Number(row.created_at) };
}

/** Accounts in the `users` table. */
export class UserRepository {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #params: ScryptParams;
  readonly #verify: (password: string, stored: string) => Promise<boolean>;
  /** A hash of a random password, verified for unknown users so that they cost the same time. */
  readonly #dummyHash: Promise<string>;

  constructor(db: Kysely<DatabaseSchema>, options: UserRepositoryOptions = {}) {
    this.#db = db;
    this.#params = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
    this.#verify = options.verify ?? verifyPassword;
    this.#dummyHash = hashPassword(randomBytes(16).toString('hex'), this.#params);
    // Never an unhandled rejection; authenticate() awaits it and sees the error there.
    this.#dummyHash.catch(() => {});
  }

  /**
   * Creates an account.
   * @param username - see {@link USERNAME_PATTERN}; from the sign-up form: untrusted.
   * @param password - see {@link validatePassword}.
   * @throws {@link InvalidUsernameError}, {@link InvalidPasswordError}, or {@link UsernameTakenError}
   *   when the name exists ignoring case (also when two sign-ups race: the unique index decides).
   */
  async create(username: string, password: string): Promise<User> {
    validateUsername(username);
    validatePassword(password, username);
    if (await this.getByUsername(username)) throw new UsernameTakenError(username);
    const passwordHash = await hashPassword(password, this.#params);
    try {
      const row = await this.#db
        .insertInto('users')
        .values({ username, password_hash: passwordHash, created_at: Date.now() })
        .returning(['id', 'username', 'created_at'])
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new UsernameTakenError(username);
      throw err;
    }
  }

  /**
   * The account for `username` and `password`, or `null`. A wrong password, an unknown user and
   * a malformed username all give `null` after the same scrypt work (a dummy hash is verified when
   * there is no user), so neither the answer nor its timing tells which it was.
   * Rate-limit calls per IP and per username in front of it.
   */
  async authenticate(username: unknown, password: unknown): Promise<User | null> {
    const pw = typeof password === 'string' && password.length <= MAX_PASSWORD_LENGTH ? password : '';
    const row = typeof username === 'string' && USERNAME_PATTERN.test(username) ? await this.#findRow(username) : undefined;
    const ok = await this.#verify(pw, row?.password_hash ?? (await this.#dummyHash));
    return row && ok && pw !== '' ? toUser(row) : null;
  }

  /** The account with this id, or `null`. */
  async getById(id: number): Promise<User | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null;
    const row = await this.#db.selectFrom('users').select(['id', 'username', 'created_at']).where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  /** The account named `username`, ignoring case, or `null`. */
  async getByUsername(username: string): Promise<User | null> {
    if (!USERNAME_PATTERN.test(username)) return null;
    const row = await this.#findRow(username);
    return row ? toUser(row) : null;
  }

  /** Every account, by username (ignoring case). */
  async list(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').select(['id', 'username', 'created_at']).orderBy(sql`lower(username)`).orderBy('id').execute();
    return rows.map(toUser);
  }

  #findRow(username: string) {
    return this.#db
      .selectFrom('users')
      .select(['id', 'username', 'password_hash', 'created_at'])
      .where(sql<string>`lower(username)`, '=', username.toLowerCase())
      .executeTakeFirst();
  }
}
