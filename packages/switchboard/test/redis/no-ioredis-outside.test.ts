/**
 * `ioredis` is an optional peer dependency of `switchboard/redis` (DESIGN.md §1): only
 * `src/redis/` may import it, so the core and the other subpaths load without it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = 'packages/switchboard/src';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('the Redis backend boundary', () => {
  it('imports ioredis only under src/redis/', () => {
    const files = sources(SRC);
    assert.ok(files.some((file) => file.includes('/redis/')), 'the walk found src/redis/');
    const offenders = files.filter((file) => {
      if (relative(SRC, file).startsWith('redis/')) return false;
      return /from\s+['"]ioredis['"]|import\(\s*['"]ioredis['"]\s*\)|require\(\s*['"]ioredis['"]\s*\)/.test(readFileSync(file, 'utf8'));
    });
    assert.deepEqual(offenders, [], 'files outside src/redis/ that import ioredis');
  });

  it('declares ioredis as an optional peer dependency, not a dependency', () => {
    const pkg = JSON.parse(readFileSync('packages/switchboard/package.json', 'utf8')) as Record<string, Record<string, unknown> | undefined>;
    assert.equal(pkg['dependencies']?.['ioredis'], undefined);
    assert.ok(pkg['peerDependencies']?.['ioredis'], 'a peer dependency');
    assert.deepEqual(pkg['peerDependenciesMeta']?.['ioredis'], { optional: true });
    assert.deepEqual(Object.keys(pkg['exports'] ?? {}).filter((key) => key.includes('redis')), ['./redis'], 'one subpath: switchboard/redis');
  });
});
