#!/usr/bin/env node
// Bundles the browser client SDK (client/index.ts) for the demo pages with esbuild.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';

mkdirSync('dist/public', { recursive: true });
await build({
  entryPoints: { 'switchboard-client': 'client/index.ts' },
  outdir: 'dist/public',
  bundle: true,
  format: 'esm',
  target: 'es2020',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
