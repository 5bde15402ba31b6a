/**
 * `SECRET_KEY`, the key CSRF tokens are signed with: the variable when set, else the key stored in
 * `./data/secret-key`, else a new one generated and stored there (demo/stored-secret.ts, as the
 * publish API key). Processes that serve one site must share it (same data directory or the same
 * variable), or a form rendered by one is refused by another.
 */
import { MIN_SECRET_KEY_CHARS } from '../config.js';
import { resolveStoredSecret, type ResolveStoredSecretOptions, type StoredSecret } from '../stored-secret.js';

/** File name of the stored key, inside the data directory. */
export const SECRET_KEY_FILE = 'secret-key';

/**
 * Returns the CSRF signing key (a generated one: 32 random bytes, 43 base64url characters).
 * @throws {@link ConfigError} naming `SECRET_KEY` for a key shorter than 32 characters or with
 *   whitespace, or naming the file when it is unusable.
 */
export function resolveSecretKey(options: ResolveStoredSecretOptions = {}): Promise<StoredSecret> {
  return resolveStoredSecret({ variable: 'SECRET_KEY', file: SECRET_KEY_FILE, minChars: MIN_SECRET_KEY_CHARS, generatedBytes: 32 }, options);
}
