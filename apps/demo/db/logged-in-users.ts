/**
 * Who is logged in: the seed's `LoggedInUser`, one row per logged-in **session** (a user logged
 * in from two browsers has two rows; logging out of one leaves the user logged in). A row is
 * created by the `user.logged_in` listener and goes away with its session: logout, rotation and
 * expiry purge delete it by foreign-key cascade. Reads also ignore rows whose session expired.
 *
 * "Logged in" is not "online": the `/users/` page shows Online for a logged-in user with at least
 * one open page, which presence tracks; this table answers the first half, across processes.
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from './database.js';
import { hashSessionKey } from './sessions.js';

/** A user and whether any live session of theirs is logged in. */
export interface UserLoginStatus {
  readonly id: number;
  readonly username: string;
  readonly isLoggedIn: boolean;
}

/** Options of {@link LoggedInUserRepository}. */
export interface LoggedInUserRepositoryOptions {
  /** Clock, for tests (must agree with the session store's). Default `Date.now`. */
  now?: () => number;
}

/** The `logged_in_users` table. */
export class LoggedInUserRepository {
  readonly #db: Kysely<DatabaseSchema>;
  readonly #now: () => number;

  constructor(db: Kysely<DatabaseSchema>, options: LoggedInUserRepositoryOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records that the session `sessionKey` is logged in as `userId`. Idempotent.
   * @throws the database's foreign-key error when the session or the user does not exist (save
   *   the session first: `login()` does, before it emits `user.logged_in`).
   */
  async add(userId: number, sessionKey: string): Promise<void> {
    await this.#db
      .insertInto('logged_in_users')
      .values({ user_id: userId, session_key_hash: hashSessionKey(sessionKey), created_at: this.#now() })
      .onConflict((oc) => oc.column('session_key_hash').doUpdateSet({ user_id: userId }))
      .execute();
  }

  /**
   * Deletes the row of `sessionKey` if there still is one (the session's deletion usually took
   * it already). @returns the user id it held, or `null`.
   */
  async removeSession(sessionKey: string): Promise<number | null> {
    const row = await this.#db
      .deleteFrom('logged_in_users')
      .where('session_key_hash', '=', hashSessionKey(sessionKey))
      .returning('user_id')
      .executeTakeFirst();
    return row ? Number(row.user_id) : null;
  }

  /** Whether `userId` has at least one live, logged-in session. */
  async isLoggedIn(userId: number): Promise<boolean> {
    const row = await this.#live()
      .select(sql<number>`1`.as('one'))
      .where('logged_in_users.user_id', '=', userId)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Ids of every user with a live, logged-in session. */
  async loggedInUserIds(): Promise<Set<number>> {
    const rows = await this.#live().select('logged_in_users.user_id').distinct().execute();
    return new Set(rows.map((r) => Number(r.user_id)));
  }

  /** Every user with their logged-in status, by username ignoring case (the `/users/` page). */
  async usersWithStatus(): Promise<UserLoginStatus[]> {
    const [users, ids] = await Promise.all([
      this.#db.selectFrom('users').select(['id', 'username']).orderBy(sql`lower(username)`).orderBy('id').execute(),
      this.loggedInUserIds(),
    ]);
    return users.map((u) => ({ id: Number(u.id), username: u.username, isLoggedIn: ids.has(Number(u.id)) }));
  }

  /** Rows whose session exists and has not expired. */
  #live() {
    return this.#db
      .selectFrom('logged_in_users')
      .innerJoin('sessions', 'sessions.id_hash', 'logged_in_users.session_key_hash')
      .where('sessions.expires_at', '>', this.#now());
  }
}
