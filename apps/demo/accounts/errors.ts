/**
 * The demo's account errors, each with a stable `SB_ERR_*` code (docs/errors.md, "Demo error
 * codes"). Form pages show the message next to the field and the code in a `data-code` attribute,
 * so tests and scripts assert on the code rather than the wording. The sign-up rules' own errors
 * (`SB_ERR_INVALID_USERNAME`, `SB_ERR_INVALID_PASSWORD`, `SB_ERR_USERNAME_TAKEN`) live with the
 * rules in `demo/db/users.ts`.
 */
import { SwitchboardError } from 'switchboard';

/** A form post without a valid CSRF token (missing, wrong, or from an expired session): HTTP 403. */
export class CsrfError extends SwitchboardError {
  constructor(message: string) {
    super('SB_ERR_CSRF', message);
  }
}

/** Sign-up: the two passwords differ: HTTP 400 on the form. */
export class PasswordsDifferError extends SwitchboardError {
  constructor() {
    super('SB_ERR_PASSWORDS_DIFFER', 'the two passwords differ; type the same password twice');
  }
}

/**
 * Log-in: wrong username or password. One message for both (the answer must not tell whether the
 * username exists): HTTP 401 on the form.
 */
export class LoginFailedError extends SwitchboardError {
  constructor() {
    super('SB_ERR_LOGIN_FAILED', 'Wrong username or password.');
  }
}

/** Too many log-in or sign-up attempts from one address or for one username: HTTP 429. */
export class TooManyAttemptsError extends SwitchboardError {
  /** Seconds until an attempt is allowed again (the `Retry-After` header). */
  readonly retryAfterS: number;
  constructor(retryAfterS: number) {
    super('SB_ERR_TOO_MANY_ATTEMPTS', `Too many attempts; try again in ${retryAfterS} second${retryAfterS === 1 ? '' : 's'}.`);
    this.retryAfterS = retryAfterS;
  }
}
