/** Where the demo's tests find the built demo, its sources and the repository (from dist/test/). */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** `apps/demo/`: views/, public/ and the sources. */
export const DEMO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The repository root: README.md, docs/. */
export const REPO_ROOT = resolve(DEMO_ROOT, '../..');
/** `node <SERVER_JS>` is what `npm start` runs. */
export const SERVER_JS = resolve(DEMO_ROOT, 'dist/server.js');
/** The demo's command (`switchboard-demo`): serve, send, createuser, simulate-sensor. */
export const DEMO_CLI = resolve(DEMO_ROOT, 'dist/cli/main.js');
/** The framework's command (`switchboard`), as the installed package provides it. */
export const SWITCHBOARD_CLI = fileURLToPath(new URL('./dist/src/cli/main.js', import.meta.resolve('switchboard/package.json')));
