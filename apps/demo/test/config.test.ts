/** The demo's configuration: defaults, validation at start-up, and the entry point's reaction to a bad value. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from 'switchboard';
import { waitFor } from 'switchboard/testing';
import { CONFIG_VARIABLES, loadConfig } from '../config.js';
import { SYSTEMS_CONFIG_VARIABLES } from '../systems-routes.js';
import { REPO_ROOT } from './paths.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled entry point: dist/test/demo → dist/demo/server.js. */
const serverJs = resolve(here, '../server.js');
const readme = join(REPO_ROOT, 'README.md');

function assertConfigError(env: Record<string, string>, variable: string, pattern?: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.equal(err.code, 'SB_ERR_CONFIG');
      assert.equal(err.variable, variable);
      assert.ok(err.message.startsWith(`${variable}: `), err.message);
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('loadConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    assert.deepEqual(loadConfig({}), {
      port: 8000,
      host: '127.0.0.1',
      channelLayerUrl: undefined,
      logLevel: 'info',
      maxPayloadBytes: 1_048_576,
      heartbeatIntervalMs: 30_000,
      maxSendQueueBytes: 4_194_304,
      databaseUrl: undefined,
      secretKey: undefined,
      allowedOrigins: undefined,
      trustProxy: false,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '::1',
      CHANNEL_LAYER_URL: 'redis://localhost:6379/0',
      LOG_LEVEL: 'WARN',
      MAX_PAYLOAD_BYTES: '2048',
      HEARTBEAT_INTERVAL_MS: '0',
      MAX_SEND_QUEUE_BYTES: '65536',
      DATABASE_URL: 'postgres://u@db.example:5432/sb',
      SECRET_KEY: 'k'.repeat(32),
      ALLOWED_ORIGINS: 'https://example.com, .example.org',
      TRUST_PROXY: '1',
    });
    assert.deepEqual(config, {
      port: 0,
      host: '::1',
      channelLayerUrl: 'redis://localhost:6379/0',
      logLevel: 'warn',
      maxPayloadBytes: 2048,
      heartbeatIntervalMs: 0,
      maxSendQueueBytes: 65536,
      databaseUrl: 'postgres://u@db.example:5432/sb',
      secretKey: 'k'.repeat(32),
      allowedOrigins: ['https://example.com', '.example.org'],
      trustProxy: 1,
    });
  });

  it('treats blank values and memory:// as unset', () => {
    assert.equal(loadConfig({ PORT: ' ', CHANNEL_LAYER_URL: '' }).port, 8000);
    assert.equal(loadConfig({ CHANNEL_LAYER_URL: 'memory://' }).channelLayerUrl, undefined);
  });

  it('refuses a PORT that is not a port number, naming PORT and the range', () => {
    for (const port of ['abc', '80abc', '-1', '65536', '1e3', '8000.5']) {
      assertConfigError({ PORT: port }, 'PORT', /0 to 65535/);
    }
  });

  it('refuses a CHANNEL_LAYER_URL with an unknown scheme or no URL at all', () => {
    assertConfigError({ CHANNEL_LAYER_URL: 'redsi://localhost:6379' }, 'CHANNEL_LAYER_URL', /unknown scheme "redsi:".*redis:\/\//);
    assertConfigError({ CHANNEL_LAYER_URL: 'localhost:6739' }, 'CHANNEL_LAYER_URL');
    assertConfigError({ CHANNEL_LAYER_URL: 'not a url' }, 'CHANNEL_LAYER_URL', /not a URL/);
  });

  it('refuses bad values of the other variables, naming each', () => {
    assertConfigError({ HOST: 'http://example.com:80' }, 'HOST');
    assertConfigError({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /trace, debug, info/);
    assertConfigError({ MAX_PAYLOAD_BYTES: '0' }, 'MAX_PAYLOAD_BYTES');
    assertConfigError({ HEARTBEAT_INTERVAL_MS: '30s' }, 'HEARTBEAT_INTERVAL_MS');
    assertConfigError({ MAX_SEND_QUEUE_BYTES: '4MiB' }, 'MAX_SEND_QUEUE_BYTES');
  });

  it('documents exactly the variables it reads', () => {
    const names = CONFIG_VARIABLES.map((v) => v.name);
    assert.deepEqual(names, ['PORT', 'HOST', 'CHANNEL_LAYER_URL', 'LOG_LEVEL', 'MAX_PAYLOAD_BYTES', 'HEARTBEAT_INTERVAL_MS', 'MAX_SEND_QUEUE_BYTES', 'SWITCHBOARD_API_KEY', 'DATABASE_URL', 'SECRET_KEY', 'ALLOWED_ORIGINS', 'TRUST_PROXY']);
    // Every variable the table lists is read: a bad value of each is refused (string ones excepted).
    for (const name of names.filter((n) => n !== 'HOST' && n !== 'CHANNEL_LAYER_URL' && n !== 'LOG_LEVEL' && n !== 'SWITCHBOARD_API_KEY' && n !== 'ALLOWED_ORIGINS')) {
      assertConfigError({ [name]: 'x' }, name);
    }
    assertConfigError({ ALLOWED_ORIGINS: 'https://example.com/' }, 'ALLOWED_ORIGINS');
  });

  it('reads TRUST_PROXY as off, true, a hop count or proxy addresses, and refuses anything else', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1,loopback' }).trustProxy, ['127.0.0.1', '10.0.0.0/8', '::1', 'loopback']);
    for (const bad of ['yes', 'proxy.example', '1000', '10.0.0.0/8;rm']) assertConfigError({ TRUST_PROXY: bad }, 'TRUST_PROXY');
  });

  it('matches the README configuration table', { skip: existsSync(readme) ? false : 'no README.md yet' }, () => {
    const lines = readFileSync(readme, 'utf8').split('\n');
    for (const v of [...CONFIG_VARIABLES, ...SYSTEMS_CONFIG_VARIABLES]) {
      // The row whose first cell is the variable (other tables mention variables in their text).
      const row = lines.find((l) => l.trimStart().startsWith(`| \`${v.name}\` |`));
      assert.ok(row, `README.md has no table row for ${v.name}`);
      assert.ok(row.includes(v.default), `README.md row for ${v.name} does not give the default ${v.default}: ${row}`);
    }
  });
});

describe('demo server entry point', () => {
  /** Runs dist/demo/server.js with `env` added; collects output until it exits. */
  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [serverJs], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, out, exited };
  }

  it('exits 1 with "error: PORT: ..." for a bad PORT', async () => {
    const { out, exited } = run({ PORT: 'eighty' });
    assert.equal(await exited, 1);
    assert.match(out.stderr, /^error: PORT: "eighty" is not a whole number/m);
    assert.equal(out.stdout, '');
  });

  it('exits 1 naming CHANNEL_LAYER_URL for an unknown scheme', async () => {
    const { out, exited } = run({ PORT: '0', CHANNEL_LAYER_URL: 'memcached://localhost' });
    assert.equal(await exited, 1);
    assert.match(out.stderr, /^error: CHANNEL_LAYER_URL: unknown scheme/m);
  });

  it('prints its URL, serves pages, and exits 0 on SIGTERM', async () => {
    const { child, out, exited } = run({ PORT: '0', HOST: '127.0.0.1' });
    try {
      const url = await waitFor(() => /Switchboard demo on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out.stdout)?.[1], {
        timeoutMs: 10_000,
        message: 'the server printed its URL',
      });
      const res = await fetch(`${url}chat/`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /What chat room would you like to enter\?/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out.stderr);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
