#!/usr/bin/env node
// Bundles the browser client SDK (client/index.ts) with esbuild to dist/public/switchboard-client.js
// (ESM, minified, with its source map). The demo serves both at /client/ (demo/systems-http.ts,
// CLIENT_SDK_URL) and its page scripts import SwitchboardSocket from there.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Paths from the repository root, so the script works from any directory.
const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}dist/public`, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { 'switchboard-client': 'client/index.ts' },
  outdir: 'dist/public',
  bundle: true,
  format: 'esm',
  target: 'es2020',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
