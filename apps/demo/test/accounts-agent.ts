/**
 * A tiny browser stand-in for the account pages over real HTTP: keeps cookies, reads the CSRF
 * token out of forms, opens WebSockets with its cookies. Used by the accounts tests.
 */
import { WebSocket } from 'ws';

/** A WebSocket with what it received and how it closed. */
export interface AgentSocket {
  readonly ws: WebSocket;
  readonly messages: unknown[];
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** A cookie-keeping HTTP client for one site. */
export class Agent {
  readonly cookies = new Map<string, string>();
  /** Sent with every request (e.g. `x-forwarded-for`, as a proxy in front would add). */
  headers: Record<string, string> = {};

  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #keep(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async get(path: string): Promise<Response> {
    return this.#keep(await fetch(new URL(path, this.base), { headers: { ...this.headers, cookie: this.cookieHeader }, redirect: 'manual' }));
  }

  async post(path: string, form: Record<string, string>): Promise<Response> {
    return this.#keep(
      await fetch(new URL(path, this.base), {
        method: 'POST',
        headers: { ...this.headers, cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        redirect: 'manual',
      }),
    );
  }

  /** GETs `path` and returns the CSRF token of its form. */
  async token(path: string): Promise<string> {
    const html = await (await this.get(path)).text();
    const token = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}:\n${html.slice(0, 500)}`);
    return token;
  }

  /** Signs up through the form; returns the response (303 on success). */
  async signUp(username: string, password: string): Promise<Response> {
    const csrf_token = await this.token('/sign_up/');
    return this.post('/sign_up/', { csrf_token, username, password1: password, password2: password });
  }

  /** Logs in through the form; returns the response (303 on success). */
  async logIn(username: string, password: string): Promise<Response> {
    const csrf_token = await this.token('/log_in/');
    return this.post('/log_in/', { csrf_token, username, password, next: '/users/' });
  }

  /** Logs out through the confirmation form. */
  async logOut(): Promise<Response> {
    const csrf_token = await this.token('/log_out/');
    return this.post('/log_out/', { csrf_token });
  }

  /** Opens a WebSocket on `path` with this agent's cookies; resolves once open. */
  async socket(path: string, headers: Record<string, string> = {}): Promise<AgentSocket> {
    const ws = new WebSocket(new URL(path, this.base.replace(/^http/, 'ws')), { headers: { cookie: this.cookieHeader, ...headers } });
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        ws.terminate();
        reject(Object.assign(new Error(`handshake refused: HTTP ${res.statusCode}`), { status: res.statusCode }));
      });
      ws.once('error', reject);
    });
    return { ws, messages, closed };
  }
}
