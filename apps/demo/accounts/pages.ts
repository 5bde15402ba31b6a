/**
 * The account pages at the seed's paths (seed 003): `/sign_up/`, `/log_in/`, `/log_out/`,
 * `/users/`. Django's auth views, rebuilt:
 *
 * - Every form carries a CSRF token (csrf.ts: bound to the session, or for an anonymous visitor
 *   to the `sb_csrf` cookie, so showing a form writes no session row); a post without the right
 *   one gets the 403 page (`SB_ERR_CSRF`) before anything else is looked at, and changes nothing.
 * - Log-in: rate-limited per client IP, per (username, client IP), and more softly per username
 *   from all addresses (429 with `Retry-After`, `SB_ERR_TOO_MANY_ATTEMPTS`), so wrong passwords
 *   from one address do not lock the owner out elsewhere (the client IP is `request.ip`: the
 *   proxy's `X-Forwarded-For` only with `TRUST_PROXY`); a wrong password and an unknown user get the same page, status
 *   (401) and timing (`UserRepository.authenticate` verifies a dummy hash for unknown users);
 *   success rotates the session id (`login()`), sets the HttpOnly, SameSite=Lax cookie and
 *   redirects (303) to `next` (a local path) or `/users/`.
 * - Sign-up: rate-limited per IP; field errors shown on the form with their `SB_ERR_*` code
 *   (400); success redirects to `/log_in/?username=…` as the seed's view does.
 * - Log-out: `GET` shows a confirmation form, `POST` logs out (the session is destroyed and its
 *   sockets closed with 4401 through the channel layer) and redirects to `/log_in/`.
 * - `/users/`: logged-in users only (others are sent to `/log_in/?next=/users/`, Django's
 *   `login_required`); every user with Online/Offline; the page script follows changes live.
 *
 * Form values come from the client: read as strings, validated, and escaped when rendered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { login, logout, type Logger } from 'switchboard';
import { InvalidPasswordError, InvalidUsernameError, MIN_PASSWORD_LENGTH, USERNAME_PATTERN, UsernameTakenError, validatePassword, validateUsername } from '../db/users.js';
import type { Accounts } from './accounts.js';
import { isValidCsrfToken, CSRF_FIELD } from './csrf.js';
import { CsrfError, LoginFailedError, PasswordsDifferError, TooManyAttemptsError } from './errors.js';
import { csrfBinding, formToken, setSessionCookie, visitorOf, type Visitor } from './http-session.js';

/**
 * Renders `view` inside the layout with `status`; fills in the layout's `username` (the visitor's
 * display name) unless `data` has one.
 */
export type PageFn = (request: FastifyRequest, reply: FastifyReply, status: number, view: string, data: Record<string, unknown>) => Promise<FastifyReply>;

/** Options of {@link registerAccountPages}. */
export interface AccountPagesOptions {
  accounts: Accounts;
  page: PageFn;
}

/** Where a successful log-in goes without a `next`. */
export const DEFAULT_AFTER_LOGIN = '/users/';

/** An error shown on a form: code and message. */
interface ShownError {
  readonly code: string;
  readonly message: string;
}

const shown = (err: { code: string; message: string }): ShownError => ({ code: err.code, message: err.message });

/** The form fields of a urlencoded body, each as a string (a repeated field: its first value). */
function fields(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body === null || typeof body !== 'object') return out;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[name] = first;
  }
  return out;
}

/**
 * `value` when it is a local path (`/…`, not `//host` or `/\host`, which browsers treat as
 * another site), else {@link DEFAULT_AFTER_LOGIN}: an open redirect would send a freshly logged-in
 * user anywhere.
 */
export function safeNext(value: unknown): string {
  return typeof value === 'string' && value.length <= 200 && /^\/(?![/\\])[A-Za-z0-9_\-./?=&%~]*$/.test(value) ? value : DEFAULT_AFTER_LOGIN;
}

/** The layout's account data: the username when logged in, `null` for a guest. */
function account(visitor: Visitor): string | null {
  return visitor.user.isAuthenticated ? visitor.user.username : null;
}

/** Registers the four pages on `app` (which must parse `application/x-www-form-urlencoded`). */
export function registerAccountPages(app: FastifyInstance, options: AccountPagesOptions): void {
  const { accounts, page } = options;
  const logger: Logger = accounts.logger;
  const { limits } = accounts;

  /**
   * The CSRF check every post starts with: `false` when it passed, `true` when it failed and the
   * 403 page was sent (the handler must then return at once and change nothing). A boolean, not
   * the reply: a `FastifyReply` is thenable and awaits to `undefined`, which read as "passed".
   */
  async function refuseWithoutCsrf(request: FastifyRequest, reply: FastifyReply, form: Record<string, string>): Promise<boolean> {
    const visitor = await visitorOf(request, accounts);
    if (isValidCsrfToken(accounts.secretKey, await csrfBinding(request, accounts), form[CSRF_FIELD])) return false;
    const err = new CsrfError('The form’s security token is missing or out of date. Go back, reload the form and send it again.');
    logger.warn({ code: err.code, url: request.url, ip: request.ip, hasSession: visitor.session.key !== null }, 'accounts: form post refused (CSRF token)');
    await page(request, reply, 403, 'error', { title: 'Forbidden', status: 403, heading: 'Forbidden', message: `${err.message} (${err.code})`, back: { href: request.url, label: 'Reload the form' }, account: account(visitor) });
    return true;
  }

  function tooMany(reply: FastifyReply, retryAfterMs: number): TooManyAttemptsError {
    const err = new TooManyAttemptsError(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    reply.header('retry-after', String(err.retryAfterS));
    return err;
  }

  // ---- sign up ----------------------------------------------------------------------------

  const signUpPage = async (request: FastifyRequest, reply: FastifyReply, status: number, values: { username: string }, errors: Record<string, ShownError>, formError?: ShownError) =>
    page(request, reply, status, 'sign-up', {
      title: 'Sign up',
      csrfToken: await formToken(request, reply, accounts),
      values,
      errors,
      formError,
      minPassword: MIN_PASSWORD_LENGTH,
      account: account(await visitorOf(request, accounts)),
    });

  app.get('/sign_up/', async (request, reply) => signUpPage(request, reply, 200, { username: '' }, {}));

  app.post('/sign_up/', async (request, reply) => {
    const form = fields(request.body);
    if (await refuseWithoutCsrf(request, reply, form)) return reply;
    const username = (form['username'] ?? '').trim();
    const byIp = await limits.signUpPerIp.consume(request.ip);
    if (!byIp.allowed) return signUpPage(request, reply, 429, { username }, {}, shown(tooMany(reply, byIp.retryAfterMs)));

    const password1 = form['password1'] ?? '';
    const errors: Record<string, ShownError> = {};
    try {
      validateUsername(username);
    } catch (err) {
      if (!(err instanceof InvalidUsernameError)) throw err;
      errors['username'] = shown(err);
    }
    try {
      validatePassword(password1, username);
    } catch (err) {
      if (!(err instanceof InvalidPasswordError)) throw err;
      errors['password1'] = shown(err);
    }
    if (password1 !== (form['password2'] ?? '')) errors['password2'] = shown(new PasswordsDifferError());
    if (Object.keys(errors).length === 0) {
      try {
        const user = await accounts.users.create(username, password1);
        logger.info({ user: user.username, id: user.id }, 'accounts: signed up');
        return reply.redirect(`/log_in/?username=${encodeURIComponent(user.username)}`, 303);
      } catch (err) {
        if (!(err instanceof UsernameTakenError)) throw err;
        errors['username'] = shown(err);
      }
    }
    return signUpPage(request, reply, 400, { username }, errors);
  });

  // ---- log in -----------------------------------------------------------------------------

  const logInPage = async (request: FastifyRequest, reply: FastifyReply, status: number, username: string, next: string, formError?: ShownError) =>
    page(request, reply, status, 'log-in', {
      title: 'Log in',
      csrfToken: await formToken(request, reply, accounts),
      // Not `username`: that is the layout's "you are …".
      formUsername: username,
      next,
      formError,
      account: account(await visitorOf(request, accounts)),
    });

  app.get<{ Querystring: { username?: unknown; next?: unknown } }>('/log_in/', async (request, reply) => {
    const given = request.query.username;
    const username = typeof given === 'string' && USERNAME_PATTERN.test(given) ? given : '';
    return logInPage(request, reply, 200, username, safeNext(request.query.next));
  });

  app.post('/log_in/', async (request, reply) => {
    const form = fields(request.body);
    if (await refuseWithoutCsrf(request, reply, form)) return reply;
    // Echoed into the form as typed (escaped), so both failure answers are the same page.
    const username = (form['username'] ?? '').slice(0, 64);
    const next = safeNext(form['next']);
    const byIp = await limits.loginPerIp.consume(request.ip);
    if (!byIp.allowed) return logInPage(request, reply, 429, username, next, shown(tooMany(reply, byIp.retryAfterMs)));
    const usernameKey = username.toLowerCase();
    // The username and IP are joined with a character neither may contain.
    const pairKey = `${usernameKey}\n${request.ip}`;
    for (const [limiter, what] of [
      [limits.loginPerUsernameIp, 'this username from this address'],
      [limits.loginPerUsername, 'this username from all addresses'],
    ] as const) {
      const verdict = await limiter.consume(limiter === limits.loginPerUsernameIp ? pairKey : usernameKey);
      if (!verdict.allowed) {
        logger.warn({ ip: request.ip, username: usernameKey }, `accounts: log-in attempts for ${what} over the limit`);
        return logInPage(request, reply, 429, username, next, shown(tooMany(reply, verdict.retryAfterMs)));
      }
    }

    const user = await accounts.users.authenticate(username, form['password']);
    if (!user) {
      logger.info({ ip: request.ip }, 'accounts: log-in failed (wrong username or password)');
      return logInPage(request, reply, 401, username, next, shown(new LoginFailedError()));
    }
    // The owner got in from here: this address starts over. The all-addresses count does not: a
    // guesser elsewhere keeps their count when the owner logs in.
    await limits.loginPerUsernameIp.reset(pairKey);
    const visitor = await visitorOf(request, accounts);
    const session = await login({ session: visitor.session }, { id: user.id, username: user.username, isAuthenticated: true }, { store: accounts.sessions, signals: accounts.signals });
    setSessionCookie(request, reply, session.key);
    logger.info({ user: user.username, id: user.id }, 'accounts: logged in');
    return reply.redirect(next, 303);
  });

  // ---- log out ----------------------------------------------------------------------------

  app.get('/log_out/', async (request, reply) => {
    const visitor = await visitorOf(request, accounts);
    if (!visitor.user.isAuthenticated) return reply.redirect('/log_in/', 303);
    return page(request, reply, 200, 'log-out', { title: 'Log out', csrfToken: await formToken(request, reply, accounts), account: account(visitor), username: visitor.user.username });
  });

  app.post('/log_out/', async (request, reply) => {
    const form = fields(request.body);
    if (await refuseWithoutCsrf(request, reply, form)) return reply;
    const visitor = await visitorOf(request, accounts);
    await logout({ session: visitor.session }, { store: accounts.sessions, signals: accounts.signals, user: visitor.user });
    setSessionCookie(request, reply, null);
    if (visitor.user.isAuthenticated) logger.info({ user: visitor.user.username }, 'accounts: logged out');
    return reply.redirect('/log_in/', 303);
  });

  // ---- who is online ----------------------------------------------------------------------

  app.get('/users/', async (request, reply) => {
    const visitor = await visitorOf(request, accounts);
    if (!visitor.user.isAuthenticated) return reply.redirect(`/log_in/?next=${encodeURIComponent('/users/')}`, 303);
    return page(request, reply, 200, 'users', {
      title: 'Who is online',
      users: await accounts.statuses(),
      csrfToken: await formToken(request, reply, accounts),
      account: account(visitor),
      username: visitor.user.username,
    });
  });
}
