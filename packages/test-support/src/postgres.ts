/** Throw-away PostgreSQL databases for tests that need one to themselves. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DATABASE_URL } from './services.js';

/** A database created for one test: its URL, and how to drop it (forcing out open connections). */
export interface TempDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates `<prefix>_<random>` on the server of `DATABASE_URL`. */
export async function tempPostgresDatabase(prefix = 'sbtest'): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
