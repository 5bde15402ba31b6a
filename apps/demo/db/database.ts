/**
 * The demo's database: Kysely over SQLite (better-sqlite3, a file under `./data/`) by default, or
 * PostgreSQL (a `pg` pool) when `DATABASE_URL` is a `postgres://` URL. The schema is the same on
 * both (see `migrations.ts`); timestamps are integer milliseconds since the epoch, so values read
 * back have the same JavaScript types on either.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Generated } from 'kysely';
import pg from 'pg';
import { ConfigError } from 'switchboard';
import { migrateToLatest } from './migrations.js';

/** Where the SQLite file goes when `DATABASE_URL` is unset (relative to the working directory). */
export const DEFAULT_SQLITE_PATH = './data/switchboard.sqlite3';

/** An integer column the database fills in. */
type Id = Generated<number>;

/** `users`: accounts. */
export interface UsersTable {
  id: Id;
  /** `^[A-Za-z0-9_.-]{1,32}$`, unique ignoring case. */
  username: string;
  /** `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>` (see users.ts). */
  password_hash: string;
  /** Milliseconds since the epoch. */
  created_at: number;
}

/** `sessions`: server-side sessions; only the SHA-256 of the key is stored. */
export interface SessionsTable {
  /** Hex SHA-256 of the session key in the cookie. */
  id_hash: string;
  /** Session data, JSON. */
  data: string;
  /** Milliseconds since the epoch; the session is dead from then on. */
  expires_at: number;
}

/**
 * `logged_in_users`: one row per logged-in session (the seed's `LoggedInUser`). Deleting the
 * session (logout, rotation, expiry purge) deletes the row (foreign key, `ON DELETE CASCADE`).
 */
export interface LoggedInUsersTable {
  id: Id;
  user_id: number;
  /** Hex SHA-256 of the session key, unique. */
  session_key_hash: string;
  created_at: number;
}

/** `chat_messages`: stored chat, newest by highest id. */
export interface ChatMessagesTable {
  id: Id;
  room: string;
  username: string;
  message: string;
  created_at: number;
}

/** The demo's schema, as Kysely sees it. */
export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  logged_in_users: LoggedInUsersTable;
  chat_messages: ChatMessagesTable;
}

/** Which engine a {@link Database} runs on. */
export type DatabaseDialect = 'sqlite' | 'postgres';

/** An open database. */
export interface Database {
  /** The query builder. */
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DatabaseDialect;
  /** For logs: the PostgreSQL URL without its password, or the SQLite file path. */
  readonly description: string;
  /** Closes the pool or the file. */
  close(): Promise<void>;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Run the migrations before returning. Default `true` ("migrations run at start"). */
  migrate?: boolean;
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /**
   * Called when an idle PostgreSQL connection fails (server restart, network). The pool replaces
   * it; the next query reconnects. Default: ignored. Pass a logger's `warn`.
   */
  onPoolError?: (err: Error) => void;
}

/** `url` without its password, for messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** What a `DATABASE_URL` value asks for. */
export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

/**
 * Interprets a `DATABASE_URL` value without opening anything (the demo's config validates with it).
 *
 * - unset or blank: SQLite at `./data/switchboard.sqlite3`;
 * - `postgres://…` or `postgresql://…`: PostgreSQL;
 * - `sqlite:<path>` or `sqlite://<path>` (so `sqlite:///tmp/x.sqlite3` is `/tmp/x.sqlite3`), and
 *   `sqlite::memory:` for a throw-away in-memory database (one process only).
 *
 * @throws {@link ConfigError} naming `DATABASE_URL` for anything else.
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseTarget {
  const value = url?.trim() ?? '';
  if (value === '') return { dialect: 'sqlite', path: DEFAULT_SQLITE_PATH };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw new ConfigError('DATABASE_URL', `${JSON.stringify(redactDatabaseUrl(value))} is not a valid URL; use postgres://user:password@host:5432/database`);
    }
    if (!u.hostname) throw new ConfigError('DATABASE_URL', `${redactDatabaseUrl(value)} has no host; use postgres://user:password@host:5432/database`);
    return { dialect: 'postgres', url: value };
  }
  if (/^sqlite:/i.test(value)) {
    let path = value.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new ConfigError('DATABASE_URL', `${JSON.stringify(value)} names no file; use sqlite:./data/switchboard.sqlite3 or sqlite::memory:`);
    return { dialect: 'sqlite', path };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1];
  throw new ConfigError(
    'DATABASE_URL',
    `${scheme ? `unknown scheme "${scheme}:"` : 'not a database URL'}; use postgres://user:password@host:5432/database for PostgreSQL, sqlite:<file> for SQLite, or leave it unset for ${DEFAULT_SQLITE_PATH}`,
  );
}

/**
 * Opens the database named by `url` (the `DATABASE_URL` value; see {@link parseDatabaseUrl}),
 * checks that it answers, and runs the migrations.
 *
 * SQLite: the file's directory is created; WAL journal (several processes may share the file),
 * foreign keys on, 5 s busy timeout. PostgreSQL: a `pg` pool; `bigint` columns are read as
 * JavaScript numbers (they hold millisecond timestamps and counts, far below 2^53).
 *
 * @throws {@link ConfigError} (`SB_ERR_CONFIG`, naming `DATABASE_URL`) for a bad URL, a file that
 *   cannot be opened or a server that cannot be reached; the migration error when a migration fails.
 */
export async function openDatabase(url?: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  const database = target.dialect === 'sqlite' ? await openSqlite(target.path) : await openPostgres(target.url, options.poolSize ?? 10, options.onPoolError);
  if (options.migrate ?? true) {
    try {
      await migrateWithRetry(database);
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return database;
}

/**
 * Whether `err` (or its cause) says another process is migrating the same SQLite file: the lock
 * is held (`SQLITE_BUSY*`), or, when `orExists`, the other process committed a table this one was
 * about to create (`table "users" already exists`: its read snapshot predates that commit).
 */
function isSqliteContention(err: unknown, orExists: boolean): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return true;
    const message = (e as { message?: unknown }).message;
    if (orExists && typeof message === 'string' && /\b(table|index)\b.*\balready exists\b/.test(message)) return true;
  }
  return false;
}

/**
 * Runs `step`, and again after a 25–125 ms pause while it fails with `retryable(err)` (another
 * process holds the file's lock), at most `attempts` times; then throws its last error.
 */
async function retryWhileContended<T>(attempts: number, retryable: (err: unknown) => boolean, step: () => T | Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 100));
    }
  }
}

/**
 * Runs the migrations; on SQLite retries when another process holds the lock. Kysely takes no
 * migration lock on SQLite, and two processes starting on one file (the multi-process demo) both
 * begin a deferred transaction: the one that loses the upgrade to a write lock gets `SQLITE_BUSY`
 * at once, which `busy_timeout` does not cover, or, when it waited for the lock, finds the tables
 * it meant to create already there. Its retry finds the migrations applied.
 *
 * Safe to retry although Kysely runs SQLite DDL outside a transaction: the loser fails at the
 * first CREATE TABLE of a migration the winner is running (it created nothing), and a retry once
 * the winner has recorded it finds nothing left to do.
 */
async function migrateWithRetry(database: Database): Promise<void> {
  if (database.dialect !== 'sqlite') {
    await migrateToLatest(database.db);
    return;
  }
  await retryWhileContended(20, (err) => isSqliteContention(err, true), () => migrateToLatest(database.db));
}

/**
 * Switches the file to WAL. On a fresh file several processes race for that switch, which takes
 * the write lock; the loser gets `SQLITE_BUSY` at once when it already holds a read lock (SQLite
 * skips the busy handler there to avoid a deadlock, see https://www.sqlite.org/c3ref/busy_handler.html),
 * so it tries again after a pause. Once one process has switched, the mode is stored in the file.
 */
function enableWal(sqlite: SQLite.Database): Promise<unknown> {
  return retryWhileContended(40, (err) => isSqliteContention(err, false), () => sqlite.pragma('journal_mode = WAL'));
}

async function openSqlite(path: string): Promise<Database> {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  let sqlite: SQLite.Database | undefined;
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    sqlite = new SQLite(file, { timeout: 5000 });
    if (!memory) await enableWal(sqlite);
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    sqlite?.close();
    throw new ConfigError('DATABASE_URL', `cannot open the SQLite file ${file}: ${(err as Error).message}; check the path and its permissions`);
  }
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', description: file, close: () => db.destroy() };
}

async function openPostgres(url: string, poolSize: number, onPoolError: ((err: Error) => void) | undefined): Promise<Database> {
  const int8 = pg.types.builtins.INT8;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    // Per pool, not global (pg.types.setTypeParser would change every pg user in the process).
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === int8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', (err) => onPoolError?.(err));
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw new ConfigError('DATABASE_URL', `cannot connect to ${redactDatabaseUrl(url)}: ${(err as Error).message}; check the URL and that PostgreSQL is running`);
  }
  return { db, dialect: 'postgres', description: redactDatabaseUrl(url), close: () => db.destroy() };
}
