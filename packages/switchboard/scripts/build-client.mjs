#!/usr/bin/env node
// Bundles the client SDK (src/client/index.ts) with esbuild into one ES module file,
// dist/browser/switchboard-client.js (minified, with its source map), exported as
// `switchboard/client/bundle` for a plain <script type="module"> without a bundler.
// platform 'browser': a node:* import anywhere in the client's graph fails this build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: { 'switchboard-client': 'src/client/index.ts' },
  outdir: 'dist/browser',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
