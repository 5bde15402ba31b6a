/**
 * `npm start`: runs the demo (`node dist/demo/server.js`), configured from the environment.
 * The same as `switchboard serve` without flags; see `demo/run-server.ts`.
 */
import { runDemoServer } from './run-server.js';

await runDemoServer(process.env);
