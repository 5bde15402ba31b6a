/**
 * `DatabaseUserStore`: the `UserStore` that `AuthMiddleware` asks for the user of a session,
 * backed by the `users` table.
 */
import type { ScopeUser, UserStore } from 'switchboard';
import type { UserRepository } from './users.js';

/** The user `AuthMiddleware` puts in `scope.user` for a logged-in session. */
export interface DemoScopeUser extends ScopeUser {
  readonly id: number;
  readonly isAuthenticated: true;
}

/** Looks session user ids up in the `users` table. */
export class DatabaseUserStore implements UserStore {
  readonly #users: UserRepository;

  constructor(users: UserRepository) {
    this.#users = users;
  }

  /**
   * The user with this id, or `null`. `id` comes from session data: anything but a positive
   * integer (or its decimal string) is `null` without a query.
   */
  async getById(id: string | number): Promise<DemoScopeUser | null> {
    const n = typeof id === 'number' ? id : /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) return null;
    const user = await this.#users.getById(n);
    return user ? { id: user.id, username: user.username, isAuthenticated: true } : null;
  }
}
