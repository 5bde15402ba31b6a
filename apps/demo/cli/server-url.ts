/** Where the demo's commands find the running demo server. */

/** The default server URL: `http://<HOST or 127.0.0.1>:<PORT or 8000>` (a wildcard HOST means this machine). */
export function defaultServerUrl(env: Readonly<Record<string, string | undefined>>): string {
  const port = env['PORT']?.trim() || '8000';
  let host = env['HOST']?.trim() || '127.0.0.1';
  if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${port}`;
}
