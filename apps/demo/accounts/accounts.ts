/**
 * The accounts side of the demo, assembled once per server: repositories on the database, the
 * session store shared by HTTP and WebSocket, the presence store, rate limiters for log-in and
 * sign-up (in Redis when the demo runs on it, so every process shares one budget), and the
 * log-in/log-out signal listeners (the seed's `LoggedInUser` rows; closing a
 * session's sockets through the channel layer at log-out).
 */
import { AuthSignals, RateLimiter, type AnyRateLimiter, type ChannelLayer, type Logger, type PresenceEntry, type PresenceStore } from 'switchboard';
import type { Database } from '../db/database.js';
import { LoggedInUserRepository } from '../db/logged-in-users.js';
import { ChatMessageRepository } from '../db/messages.js';
import { DatabaseSessionStore } from '../db/sessions.js';
import { DatabaseUserStore } from '../db/user-store.js';
import { UserRepository, type ScryptParams } from '../db/users.js';
import { LOGOUT_EVENT_TYPE, ONLINE_PRESENCE_GROUP, USERS_GROUP, presenceKey, sessionGroup, userStatusEvent, type UserStatusPayload } from './connections.js';

/** Attempts allowed per window. */
export interface AttemptLimit {
  /** Attempts in a burst, and per `windowMs` on average. */
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * The rate limits of the account forms: shared by every process when the demo runs on Redis
 * (`RedisRateLimiter`), per process otherwise (`RateLimiter`).
 */
export interface AccountRateLimits {
  /** Log-in posts per client IP. Default 20 per minute. */
  readonly loginPerIp: AttemptLimit;
  /**
   * Log-in posts per (username, client IP); reset by a successful log-in from that IP. Default 5
   * per minute: guessing from one address is slow, and it locks out only that address.
   */
  readonly loginPerUsernameIp: AttemptLimit;
  /**
   * Log-in posts per username from all addresses together: the softer limit that still bounds a
   * guesser spread over many addresses, high enough that one attacker's address cannot lock the
   * owner out (OWASP Authentication Cheat Sheet, "Account Lockout"). Default 50 per 15 minutes.
   */
  readonly loginPerUsername: AttemptLimit;
  /** Sign-up posts per client IP. Default 10 per 10 minutes. */
  readonly signUpPerIp: AttemptLimit;
}

/** Defaults of {@link AccountRateLimits} (OWASP Authentication Cheat Sheet, "Login Throttling"). */
export const DEFAULT_ACCOUNT_RATE_LIMITS: AccountRateLimits = Object.freeze({
  loginPerIp: { limit: 20, windowMs: 60_000 },
  loginPerUsernameIp: { limit: 5, windowMs: 60_000 },
  loginPerUsername: { limit: 50, windowMs: 900_000 },
  signUpPerIp: { limit: 10, windowMs: 600_000 },
});

/** How often expired sessions (and their `logged_in_users` rows) are deleted: hourly. */
export const SESSION_PURGE_INTERVAL_MS = 3600 * 1000;

/** Options of {@link createAccounts}. */
export interface AccountsOptions {
  database: Database;
  channelLayer: ChannelLayer;
  presence: PresenceStore;
  /** Signs CSRF tokens (see csrf.ts). */
  secretKey: string;
  logger: Logger;
  /** Cost of new password hashes. Default `DEFAULT_SCRYPT_PARAMS` (N = 2^15). */
  scrypt?: ScryptParams;
  /** Overrides of {@link DEFAULT_ACCOUNT_RATE_LIMITS}. */
  rateLimits?: Partial<AccountRateLimits>;
  /**
   * Redis (the demo's `CHANNEL_LAYER_URL` and key prefix) to keep the rate limits in, shared by
   * every process. Default: none, in-process limits.
   */
  redis?: { url: string; prefix: string };
}

/** The limiters of the account forms. */
export interface AccountLimiters {
  readonly loginPerIp: AnyRateLimiter;
  readonly loginPerUsernameIp: AnyRateLimiter;
  readonly loginPerUsername: AnyRateLimiter;
  readonly signUpPerIp: AnyRateLimiter;
}

/** Everything the account pages and consumers use. */
export interface Accounts {
  readonly database: Database;
  readonly users: UserRepository;
  readonly sessions: DatabaseSessionStore;
  readonly userStore: DatabaseUserStore;
  readonly loggedIn: LoggedInUserRepository;
  readonly messages: ChatMessageRepository;
  readonly presence: PresenceStore;
  /** This server's own signal hub (not the process-wide one: tests run several servers in one process). */
  readonly signals: AuthSignals;
  readonly channelLayer: ChannelLayer;
  readonly secretKey: string;
  readonly logger: Logger;
  /** Always `await` their answers (promises on Redis). */
  readonly limits: AccountLimiters;
  /**
   * Every user as the `/users/` page shows them, by username ignoring case: `is_logged_in` (a live,
   * logged-in session; "Online") and `active` (at least one page open now, from presence).
   */
  statuses(): Promise<UserStatusPayload[]>;
  /** One user's status, as in {@link Accounts.statuses} (`false`, `false` for an unknown user). */
  statusOf(username: string): Promise<UserStatusPayload>;
  /** Stops the purge timer, the presence store and the Redis rate limiters (the database and layer belong to the caller). */
  close(): Promise<void>;
}

/** The limiters: in Redis when `redis` is given (the Redis client is only loaded then), else in memory. */
async function createLimiters(limits: AccountRateLimits, redis: AccountsOptions['redis'], logger: Logger): Promise<{ limiters: AccountLimiters; close(): Promise<void> }> {
  if (redis === undefined) {
    return {
      limiters: {
        loginPerIp: new RateLimiter(limits.loginPerIp),
        loginPerUsernameIp: new RateLimiter(limits.loginPerUsernameIp),
        loginPerUsername: new RateLimiter(limits.loginPerUsername),
        signUpPerIp: new RateLimiter(limits.signUpPerIp),
      },
      close: async () => {},
    };
  }
  const { RedisRateLimiter } = await import('switchboard/redis');
  const make = (name: string, limit: AttemptLimit) => new RedisRateLimiter({ ...limit, name, url: redis.url, prefix: redis.prefix, logger });
  const limiters = {
    loginPerIp: make('login-ip', limits.loginPerIp),
    loginPerUsernameIp: make('login-username-ip', limits.loginPerUsernameIp),
    loginPerUsername: make('login-username', limits.loginPerUsername),
    signUpPerIp: make('sign-up-ip', limits.signUpPerIp),
  };
  return {
    limiters,
    close: async () => {
      await Promise.all(Object.values(limiters).map((limiter) => limiter.close()));
    },
  };
}

/** Assembles {@link Accounts} and registers its signal listeners. */
export async function createAccounts(options: AccountsOptions): Promise<Accounts> {
  const { database, channelLayer, presence, logger } = options;
  const db = database.db;
  const users = new UserRepository(db, options.scrypt ? { scrypt: options.scrypt } : {});
  const sessions = new DatabaseSessionStore(db);
  const loggedIn = new LoggedInUserRepository(db);
  const limits = await createLimiters({ ...DEFAULT_ACCOUNT_RATE_LIMITS, ...options.rateLimits }, options.redis, logger);
  const signals = new AuthSignals();

  const statusOf = async (username: string): Promise<UserStatusPayload> => {
    const [user, online] = await Promise.all([users.getByUsername(username), presence.list(ONLINE_PRESENCE_GROUP)]);
    const key = presenceKey(username);
    return {
      username: user?.username ?? username,
      is_logged_in: user !== null && (await loggedIn.isLoggedIn(Number(user.id))),
      active: online.some((e: PresenceEntry) => e.key === key),
    };
  };
  /** Tells every `/users/` page; a failure is logged (the log-in or log-out itself went through). */
  const announce = async (username: string): Promise<void> => {
    try {
      await channelLayer.groupSend(USERS_GROUP, userStatusEvent(await statusOf(username)));
    } catch (err) {
      logger.error({ err, user: username }, 'accounts: could not announce the status change to /users/ pages');
    }
  };

  // The seed's LoggedInUser: a row per logged-in session (logout deletes it with the session);
  // and, as the seed's signal receivers, `{username, is_logged_in}` to the group `users`.
  signals.on('user.logged_in', async ({ user, sessionKey }) => {
    await loggedIn.add(Number(user.id), sessionKey);
    await announce(user.username);
  });
  // Close the session's sockets wherever they are (their disconnect updates presence), then say
  // whether the user is still logged in (another browser may hold a session).
  signals.on('user.logged_out', async ({ user, sessionKey }) => {
    if (sessionKey !== null) await channelLayer.groupSend(sessionGroup(sessionKey), { type: LOGOUT_EVENT_TYPE });
    if (user.isAuthenticated) await announce(user.username);
  });

  const purge = setInterval(() => {
    sessions.purgeExpired().then(
      (n) => n > 0 && logger.info({ sessions: n }, 'accounts: purged expired sessions'),
      (err: unknown) => logger.warn({ err }, 'accounts: purging expired sessions failed; retrying in an hour'),
    );
  }, SESSION_PURGE_INTERVAL_MS);
  purge.unref();

  return {
    database,
    users,
    sessions,
    userStore: new DatabaseUserStore(users),
    loggedIn,
    messages: new ChatMessageRepository(db),
    presence,
    signals,
    channelLayer,
    secretKey: options.secretKey,
    logger,
    limits: limits.limiters,
    async statuses() {
      const [all, online] = await Promise.all([loggedIn.usersWithStatus(), presence.list(ONLINE_PRESENCE_GROUP)]);
      const present = new Set(online.map((e: PresenceEntry) => e.key));
      return all.map((u) => ({ username: u.username, is_logged_in: u.isLoggedIn, active: present.has(presenceKey(u.username)) }));
    },
    statusOf,
    async close() {
      clearInterval(purge);
      await presence.close();
      await limits.close();
    },
  };
}
