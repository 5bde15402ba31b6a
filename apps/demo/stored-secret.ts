/**
 * A secret taken from an environment variable, or generated at first start and kept in a file
 * under `./data/` (mode 0600) so that a restarted server, another process on the same machine and
 * the CLI use the same value (the way Jupyter prints its token once and keeps it). The publish
 * API key (`SWITCHBOARD_API_KEY`, data/api-key) and the CSRF signing key (`SECRET_KEY`,
 * data/secret-key) both come from here.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError } from 'switchboard';

/** What a secret is called and how it is made. */
export interface StoredSecretSpec {
  /** The environment variable that sets it, named in every error. */
  readonly variable: string;
  /** File name inside the data directory. */
  readonly file: string;
  /** Shortest value accepted, in characters. */
  readonly minChars: number;
  /** Random bytes of a generated value (base64url-encoded: 4 characters per 3 bytes). */
  readonly generatedBytes: number;
}

/** A resolved secret. */
export interface StoredSecret {
  /** The value. */
  readonly key: string;
  /** `true` when it was generated now. */
  readonly generated: boolean;
  /** Where it came from: the environment variable, or the file it is stored in. */
  readonly source: { readonly kind: 'env'; readonly variable: string } | { readonly kind: 'file'; readonly path: string };
}

/** Where {@link resolveStoredSecret} looks. */
export interface ResolveStoredSecretOptions {
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory of the file. Default `./data` (relative to the working directory). */
  dataDir?: string;
}

/**
 * Returns the secret: the variable when set; else the value stored in `<dataDir>/<file>`; else a
 * new one (`crypto.randomBytes(generatedBytes)`, base64url), written there with mode 0600 (the
 * directory is created with mode 0700 if missing). Two processes starting at once agree: the file
 * is created with `wx`, and the loser reads the winner's value.
 *
 * @throws {@link ConfigError} naming the variable for a value shorter than `minChars` or containing
 *   whitespace, or naming the file when it is empty, malformed, unreadable or cannot be written.
 */
export async function resolveStoredSecret(spec: StoredSecretSpec, options: ResolveStoredSecretOptions = {}): Promise<StoredSecret> {
  const { variable } = spec;
  const env = options.env ?? process.env;
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    checkKey(spec, fromEnv, variable, `set ${variable} to at least ${spec.minChars} characters without spaces, or unset it to have one generated`);
    return { key: fromEnv, generated: false, source: { kind: 'env', variable } };
  }
  const dir = resolve(options.dataDir ?? 'data');
  const path = join(dir, spec.file);
  const stored = await readStoredKey(spec, path);
  if (stored !== undefined) return { key: stored, generated: false, source: { kind: 'file', path } };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(spec.generatedBytes).toString('base64url');
  try {
    // `wx`: never overwrite. Two processes starting at once: the second reads the first's key.
    await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readStoredKey(spec, path);
      if (raced !== undefined) return { key: raced, generated: false, source: { kind: 'file', path } };
    }
    throw new ConfigError(variable, `cannot store a generated key in ${path}: ${(err as Error).message}; set ${variable} or make ${dir} writable`);
  }
  return { key, generated: true, source: { kind: 'file', path } };
}

/** Reads and checks the stored key; `undefined` when the file does not exist. */
async function readStoredKey(spec: StoredSecretSpec, path: string): Promise<string | undefined> {
  const { variable } = spec;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(variable, `cannot read ${path}: ${(err as Error).message}; fix its permissions, delete it to have a new key generated, or set ${variable}`);
  }
  const key = text.trim();
  // A half-written file (a crash between create and write) reads as empty: say so, do not guess.
  checkKey(spec, key, `${variable} (stored in ${path})`, `delete ${path} to have a new key generated, or set ${variable}`);
  // Tighten a key file someone made readable by others; a failure here is not fatal.
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) await chmod(path, 0o600).catch(() => undefined);
  return key;
}

function checkKey(spec: StoredSecretSpec, key: string, variable: string, fix: string): void {
  if (/\s/.test(key)) throw new ConfigError(variable, `the key contains whitespace; ${fix}`);
  if (key.length < spec.minChars) throw new ConfigError(variable, `the key has ${key.length} characters, fewer than ${spec.minChars}; ${fix}`);
}
