/**
 * Which external services the tests can reach. Probed once before any test file's tests run
 * (top-level await); a missing service skips its tests, unless REQUIRE_SERVICES=1, where it fails.
 */
import { Socket } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

/** Whether a TCP connection opens, trying three times: a loaded CI machine can be slow to answer. */
async function reachable(url: string, defaultPort: number): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await connects(url, defaultPort)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

function connects(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(u.port || defaultPort), u.hostname, () => done(true));
  });
}

const [redisUp, postgresUp] = await Promise.all([reachable(REDIS_URL, 6379), reachable(DATABASE_URL, 5432)]);

function check(up: boolean, what: string): boolean {
  if (!up && REQUIRE_SERVICES) throw new Error(`${what} is unreachable and REQUIRE_SERVICES=1`);
  return up;
}

/** Whether Redis answers; throws when it does not and REQUIRE_SERVICES=1. */
export function redisAvailable(): boolean {
  return check(redisUp, `Redis at ${REDIS_URL}`);
}

/** Whether PostgreSQL answers; throws when it does not and REQUIRE_SERVICES=1. */
export function postgresAvailable(): boolean {
  return check(postgresUp, `PostgreSQL at ${DATABASE_URL}`);
}
