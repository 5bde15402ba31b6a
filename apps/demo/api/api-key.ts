/**
 * The publish API's key: `SWITCHBOARD_API_KEY`, or one generated at first start and kept in
 * `./data/api-key` (mode 0600) so that `switchboard send` and a restarted server use the same key
 * (the way Jupyter prints its token once and keeps it). The storing is `demo/stored-secret.ts`'s,
 * shared with `SECRET_KEY`.
 */
import { resolveStoredSecret, type ResolveStoredSecretOptions, type StoredSecret } from '../stored-secret.js';

/** The environment variable that sets the key. */
export const API_KEY_VARIABLE = 'SWITCHBOARD_API_KEY';

/** File name of the stored key, inside the data directory. */
export const API_KEY_FILE = 'api-key';

/** Shortest key accepted: 16 characters (a generated key has 32: 24 random bytes, base64url). */
export const MIN_API_KEY_CHARS = 16;

/** A resolved key. */
export type ApiKey = StoredSecret;

/** Options of {@link resolveApiKey}. */
export type ResolveApiKeyOptions = ResolveStoredSecretOptions;

/**
 * Returns the publish API key: `SWITCHBOARD_API_KEY` when set; else the key stored in
 * `<dataDir>/api-key`; else a new one (`crypto.randomBytes(24)`, base64url), written there with
 * mode 0600 (the directory is created with mode 0700 if missing).
 *
 * @throws {@link ConfigError} naming `SWITCHBOARD_API_KEY` for a key shorter than 16 characters or
 *   containing whitespace, or naming the file when it is empty, malformed or unreadable.
 */
export function resolveApiKey(options: ResolveApiKeyOptions = {}): Promise<ApiKey> {
  return resolveStoredSecret({ variable: API_KEY_VARIABLE, file: API_KEY_FILE, minChars: MIN_API_KEY_CHARS, generatedBytes: 24 }, options);
}
