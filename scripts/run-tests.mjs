#!/usr/bin/env node
// Runs every workspace's compiled test files (<workspace>/dist/test/**/*.test.js) with Node's
// built-in test runner, from the repository root (tests read docs/ and README.md from there).
// Usage: node scripts/run-tests.mjs [filter ...]   (filters match path substrings, e.g. "layers" or "e2e/chat")
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const TEST_DIRS = ['packages/switchboard/dist/test', 'apps/demo/dist/test'];
const files = TEST_DIRS.flatMap((dir) => walk(dir))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'} under ${TEST_DIRS.join(', ')}; did the build run?`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
