/**
 * The demo's schema migrations, in code (no migration folder to ship or find at run time), run by
 * Kysely's `Migrator` at start-up. Kysely records applied migrations in `kysely_migration` and
 * takes a lock first (a PostgreSQL advisory lock; SQLite's write lock), so several processes
 * starting together apply each migration once.
 *
 * Portable column types only: `integer`/`bigint`, `varchar`, `text`. Timestamps are `bigint`
 * milliseconds since the epoch (SQLite has no timestamp type; a `timestamptz` would come back as
 * a `Date` on PostgreSQL and a string on SQLite). Auto-increment ids differ by dialect:
 * `INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite (ids of deleted rows are never reused, so an old
 * session cannot point at a new account), an identity column on PostgreSQL.
 */
import { Kysely, Migrator, PostgresAdapter, sql, type ColumnDefinitionBuilder, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { SwitchboardError } from 'switchboard';

type Dialect = 'sqlite' | 'postgres';

/** Which dialect `db` talks to. */
function dialectOf(db: Kysely<unknown>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** A primary key filled in by the database. */
function autoId(dialect: Dialect) {
  return (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    dialect === 'postgres' ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement();
}

/** The migrations, oldest first; names sort in the order they apply. */
export function demoMigrations(dialect: Dialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('users')
          .addColumn('id', 'integer', autoId(dialect))
          .addColumn('username', 'varchar(32)', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        // "Alice" and "alice" would look like one person in a chat: unique ignoring case.
        await db.schema.createIndex('users_username_lower_idx').on('users').unique().expression(sql`lower(username)`).execute();

        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute();

        await db.schema
          .createTable('logged_in_users')
          .addColumn('id', 'integer', autoId(dialect))
          .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('session_key_hash', 'varchar(64)', (c) => c.notNull().unique().references('sessions.id_hash').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('logged_in_users_user_id_idx').on('logged_in_users').column('user_id').execute();

        await db.schema
          .createTable('chat_messages')
          .addColumn('id', dialect === 'postgres' ? 'bigint' : 'integer', autoId(dialect))
          .addColumn('room', 'varchar(100)', (c) => c.notNull())
          .addColumn('username', 'varchar(64)', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('chat_messages_room_id_idx').on('chat_messages').columns(['room', 'id']).execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('chat_messages').ifExists().execute();
        await db.schema.dropTable('logged_in_users').ifExists().execute();
        await db.schema.dropTable('sessions').ifExists().execute();
        await db.schema.dropTable('users').ifExists().execute();
      },
    },
  };
}

/** Kysely's provider interface over {@link demoMigrations}. */
export class DemoMigrationProvider implements MigrationProvider {
  readonly #dialect: Dialect;
  constructor(dialect: Dialect) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return demoMigrations(this.#dialect);
  }
}

/** A failed migration run (`SB_ERR_MIGRATION_FAILED`); `cause` is the database error, `results` what ran. */
export class MigrationFailedError extends SwitchboardError {
  constructor(
    message: string,
    readonly results: MigrationResultSet['results'],
    cause: unknown,
  ) {
    super('SB_ERR_MIGRATION_FAILED', message, { cause });
  }
}

function migratorFor(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider: new DemoMigrationProvider(dialectOf(db)) });
}

function check(set: MigrationResultSet, what: string): string[] {
  if (set.error) {
    const failed = set.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = set.error instanceof Error ? set.error.message : String(set.error);
    throw new MigrationFailedError(`${what} failed${failed ? ` at ${failed}` : ''}: ${reason}`, set.results, set.error);
  }
  return (set.results ?? []).map((r) => r.migrationName);
}

/**
 * Applies every migration not applied yet. Idempotent.
 * @returns the names of the migrations applied now (`[]` when up to date).
 * @throws {@link MigrationFailedError} when one fails (its transaction is rolled back).
 */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<string[]> {
  return check(await migratorFor(db as Kysely<unknown>).migrateToLatest(), 'migration');
}

/**
 * Reverts the last applied migration (tests and manual rollbacks).
 * @returns the names reverted.
 * @throws {@link MigrationFailedError} when it fails.
 */
export async function migrateDown<T>(db: Kysely<T>): Promise<string[]> {
  return check(await migratorFor(db as Kysely<unknown>).migrateDown(), 'rollback');
}
