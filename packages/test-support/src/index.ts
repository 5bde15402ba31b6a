/**
 * Test infrastructure shared by the workspaces' tests (private, never published): which services
 * are reachable, private redis-server processes, real-socket clients and the chromium launcher.
 */
export * from './services.js';
export * from './redis-server.js';
export * from './redis-cluster.js';
export * from './clients.js';
export * from './browser.js';
export * from './postgres.js';
