/**
 * The publish API's key: `SWITCHBOARD_API_KEY`, or one generated at first start and kept in
 * `./data/api-key` (mode 0600) so that `switchboard send` and a restarted server use the same key
 * (the way Jupyter prints its token once and keeps it).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from 'switchboard';

/** The environment variable that sets the key. */
export const API_KEY_VARIABLE = 'SWITCHBOARD_API_KEY';

/** File name of the stored key, inside the data directory. */
export const API_KEY_FILE = 'api-key';

/** Shortest key accepted: 16 characters (a generated key has 32: 24 random bytes, base64url). */
export const MIN_API_KEY_CHARS = 16;

/** A resolved key. */
export interface ApiKey {
  /** The bearer token `POST /api/publish` expects. */
  readonly key: string;
  /** `true` when it was generated now: print it once, this is the only time it is shown. */
  readonly generated: boolean;
  /** Where it came from: the environment variable, or the file it is stored in. */
  readonly source: { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'file'; readonly path: string };
}

/** Options of {@link resolveApiKey}. */
export interface ResolveApiKeyOptions {
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory of the key file. Default `./data` (relative to the working directory). */
  dataDir?: string;
}

/**
 * Returns the publish API key: `SWITCHBOARD_API_KEY` when set; else the key stored in
 * `<dataDir>/api-key`; else a new one (`crypto.randomBytes(24)`, base64url), written there with
 * mode 0600 (the directory is created with mode 0700 if missing).
 *
 * @throws {@link ConfigError} naming `SWITCHBOARD_API_KEY` for a key shorter than 16 characters or
 *   containing whitespace, or naming the file when it is empty, malformed or unreadable.
 */
export async function resolveApiKey(options: ResolveApiKeyOptions = {}): Promise<ApiKey> {
  const env = options.env ?? process.env;
  const fromEnv = env[API_KEY_VARIABLE];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    checkKey(fromEnv, API_KEY_VARIABLE, `set ${API_KEY_VARIABLE} to at least ${MIN_API_KEY_CHARS} characters without spaces, or unset it to have one generated`);
    return { key: fromEnv, generated: false, source: { kind: 'env', variable: API_KEY_VARIABLE } };
  }
  const dir = resolve(options.dataDir ?? 'data');
  const path = join(dir, API_KEY_FILE);
  const stored = await readStoredKey(path);
  if (stored !== undefined) return { key: stored, generated: false, source: { kind: 'file', path } };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(24).toString('base64url');
  try {
    // `wx`: never overwrite. Two processes starting at once: the second reads the first's key.
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readStoredKey(path);
      if (raced !== undefined) return { key: raced, generated: false, source: { kind: 'file', path } };
    }
    throw new ConfigError(API_KEY_VARIABLE, `cannot store a generated key in ${path}: ${(err as Error).message}; set ${API_KEY_VARIABLE} or make ${dir} writable`);
  }
  return { key, generated: true, source: { kind: 'file', path } };
}

/** Reads and checks the stored key; `undefined` when the file does not exist. */
async function readStoredKey(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(API_KEY_VARIABLE, `cannot read ${path}: ${(err as Error).message}; fix its permissions, delete it to have a new key generated, or set ${API_KEY_VARIABLE}`);
  }
  const key = text.trim();
  // A half-written file (a crash between create and write) reads as empty: say so, do not guess.
  checkKey(key, `${API_KEY_VARIABLE} (stored in ${path})`, `delete ${path} to have a new key generated, or set ${API_KEY_VARIABLE}`);
  // Tighten a key file someone made readable by others; a failure here is not fatal.
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) await chmod(path, 0o600).catch(() => undefined);
  return key;
}

function checkKey(key: string, variable: string, fix: string): void {
  if (/\s/.test(key)) throw new ConfigError(variable, `the key contains whitespace; ${fix}`);
  if (key.length < MIN_API_KEY_CHARS) throw new ConfigError(variable, `the key has ${key.length} characters, fewer than ${MIN_API_KEY_CHARS}; ${fix}`);
}
