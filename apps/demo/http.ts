/**
 * The demo's HTTP side (Fastify): pages rendered with Eta (escaping on), static files, the
 * guest-name cookie the chat consumer reads, and (with accounts) the account pages and the
 * session cookie shared with the WebSocket side. Switchboard's server hands it every non-upgrade
 * request through `app.routing` and writes the access log itself, so Fastify's logger is off.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyFormbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import { Eta } from 'eta';
import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { silentLogger, type ChannelLayer, type Logger } from 'switchboard';
import type { Accounts } from './accounts/accounts.js';
import { processGuestIdentity, type GuestIdentity } from './accounts/guest-identity.js';
import { visitorOf } from './accounts/http-session.js';
import { registerAccountPages } from './accounts/pages.js';
import { MAX_MESSAGE_CHARS, isMembersOnlyRoom } from './consumers/chat.js';
import { listRooms, type RoomDirectory } from './consumers/room-directory.js';
import { ROOM_NAME_HTML_PATTERN, isValidRoomName, normalizeRoomName, roomNameProblem } from './consumers/room-name.js';
import type { TimedStreamOptions } from './consumers/words.js';
import { registerIotApi } from './iot/ingest-api.js';
import type { ReadingsStore } from './iot/readings-store.js';
import { clientSdkFiles, guestName, registerSystemPages, serveFiles, type PageVisitor } from './systems-http.js';

/**
 * The demo's source directory (views, public). Compiled code runs from `dist/`, which has no
 * views: look next to this file first, then one level up.
 */
function demoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [here, resolve(here, '..')]) {
    if (existsSync(join(dir, 'views', 'layout.eta'))) return dir;
  }
  throw new Error(`demo views not found next to ${here} nor in ${resolve(here, '..')}`);
}

/** One entry of the home page. */
interface SystemLink {
  readonly name: string;
  readonly href: string;
  readonly live: boolean;
  readonly summary: string;
}

/** The six seed systems (SEEDS.md), in the seeds' order. */
const SYSTEMS: readonly SystemLink[] = [
  { name: 'Random word stream', href: '/one/', live: true, summary: 'A new word pushed to /one/ at a fixed interval (2 seconds by default), without blocking a worker.' },
  {
    name: 'IoT live chart',
    href: '/two/',
    live: true,
    summary: 'A Chart.js line chart on /two/: the seed’s simulated sensor, plus real sensors that POST readings to /api/iot/<sensor>/readings.',
  },
  { name: 'Chat rooms', href: '/chat/', live: true, summary: 'Pick a room; everyone in it sees every message at once.' },
  { name: 'Dice game rooms', href: '/game/', live: true, summary: 'Players in a room take turns rolling a die until the game ends.' },
  { name: 'Who is online', href: '/users/', live: true, summary: 'Sign up and log in; every open page shows who is online, live.' },
  {
    name: 'Backend push',
    href: '/chat/chat_room/',
    live: true,
    summary: 'Open the chat_room room, then run npm run send -- "hello" (or switchboard send, or POST /api/publish): the message reaches every browser in it from another process.',
  },
];

/** Pages may load scripts, styles and sockets from this origin only. */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** `TRUST_PROXY` as Fastify takes it; a hop count as proxy-addr's "trust the first n hops". */
function fastifyTrustProxy(value: boolean | number | readonly string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return typeof value === 'boolean' ? value : [...value];
}

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  /** Directory holding `views/` and `public/`. Default: the demo's own. */
  root?: string;
  /**
   * The sensor ingestion API (`POST /api/iot/<sensor>/readings`, demo/iot/ingest-api.ts): the layer
   * readings are group-sent on, where they are kept, and the key (`undefined`: the API answers 503
   * naming `IOT_API_KEY`). Without this option the API is not routed.
   */
  iot?: { channelLayer: ChannelLayer; store: ReadingsStore; apiKey: string | undefined };
  /**
   * Accounts (demo/accounts/): `/sign_up/`, `/log_in/`, `/log_out/`, `/users/`; logged-in
   * visitors shown under their username; rooms `members-…` redirect guests to `/log_in/`.
   * Without it those pages are not routed and every visitor is a guest.
   */
  accounts?: Accounts;
  /** The word stream's timing as routed, for the `/one/` page's text. Default: 2000 ms, 100 words. */
  wordStream?: TimedStreamOptions;
  /**
   * Signs the guest-name cookie; the WebSocket side must check with the same key. Default: the
   * process's own ({@link processGuestIdentity}).
   */
  guests?: GuestIdentity;
  /** The open chat and dice rooms the index pages list. Default: none listed. */
  rooms?: { chat: RoomDirectory; game: RoomDirectory };
  /**
   * Fastify's `trustProxy` (the demo's `TRUST_PROXY`): whose `X-Forwarded-*` headers decide
   * `request.ip` (rate limits) and `request.protocol` (Secure cookies). Default `false`.
   */
  trustProxy?: boolean | number | readonly string[];
  /** Where a failing request's detail goes (a 500 page shows only its request id). Default: the accounts' logger, else none. */
  logger?: Logger;
}

/**
 * Creates the demo's Fastify app (not listening; Switchboard's server feeds it requests).
 * Call `await app.ready()` before using `app.routing`.
 *
 * Routes: `GET /` (home), `GET /chat/` (room form; `?room=<name>` redirects to the room),
 * `GET /chat/<room>/` (room page; a name outside `^[A-Za-z0-9_-]{1,64}$` answers 400),
 * `GET /chat/<room>` (redirects to the slash form, as Django's APPEND_SLASH), `/static/*`, the
 * browser client SDK at `/client/switchboard-client.js` (and `.map`) that the page scripts import;
 * from systems-http.ts `GET /one/`, `/two/`, `/game/`, `/game/<room>/` and `/vendor/*` (Chart.js);
 * with `options.iot`, `POST /api/iot/<sensor>/readings`; with `options.accounts`, demo/accounts/pages.ts.
 */
export async function createHttpApp(options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const root = options.root ?? demoRoot();
  const eta = new Eta({ views: join(root, 'views'), autoEscape: true, cache: true });
  // Longer than any valid room name, so an over-long name gets the 400 page rather than a 404.
  const trustProxy = options.trustProxy ?? false;
  // Request ids: short and random, quoted on error pages and in the log line with the detail.
  const fastifyOptions: FastifyHttpOptions<Server> = {
    logger: false,
    routerOptions: { maxParamLength: 1000 },
    trustProxy: fastifyTrustProxy(trustProxy),
    genReqId: () => randomBytes(6).toString('base64url'),
  };
  const app = Fastify(fastifyOptions);

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('referrer-policy', 'same-origin');
    }
    return payload;
  });

  const page = (reply: FastifyReply, status: number, view: string, data: Record<string, unknown>): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').send(eta.render(view, data));

  const accounts = options.accounts;
  const guests = options.guests ?? processGuestIdentity();
  /**
   * The layout's `username` (who the visitor is shown as) and `account` (the logged-in username,
   * `null` for a guest; left out without accounts).
   */
  const who = async (request: FastifyRequest, reply: FastifyReply): Promise<PageVisitor> => {
    if (!accounts) return { username: guestName(request, reply, guests) };
    const { user } = await visitorOf(request, accounts);
    return user.isAuthenticated ? { username: user.username, account: user.username } : { username: guestName(request, reply, guests), account: null };
  };

  const errorPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    heading: string,
    message: string,
    back?: { href: string; label: string },
  ): Promise<FastifyReply> => who(request, reply).then((w) => page(reply, status, 'error', { title: heading, status, heading, message, back, ...w }));

  await app.register(fastifyStatic, { root: join(root, 'public'), prefix: '/static/', index: false, maxAge: '1h' });
  // The page scripts are ES modules on the framework's own browser client (no CDN).
  await serveFiles(app, clientSdkFiles());

  app.get('/', async (request, reply) => page(reply, 200, 'home', { title: 'Home', systems: SYSTEMS, accounts: accounts !== undefined, ...(await who(request, reply)) }));

  app.get<{ Querystring: { room?: string | string[] } }>('/chat/', async (request, reply) => {
    const visitor = await who(request, reply);
    const room = request.query.room;
    const rooms = await listRooms(options.rooms?.chat, '/chat/');
    if (room === undefined) return page(reply, 200, 'chat-index', { title: 'Chat', room: '', error: null, roomPattern: ROOM_NAME_HTML_PATTERN, rooms, ...visitor });
    const name = normalizeRoomName((Array.isArray(room) ? (room[0] ?? '') : room).trim()) ?? '';
    const problem = roomNameProblem(name);
    if (problem !== null) {
      return page(reply, 400, 'chat-index', { title: 'Chat', room: name, error: problem, roomPattern: ROOM_NAME_HTML_PATTERN, rooms, ...visitor });
    }
    return reply.redirect(`/chat/${encodeURIComponent(name)}/`, 303);
  });

  app.get<{ Params: { room: string } }>('/chat/:room/', async (request, reply) => {
    const room = normalizeRoomName(request.params.room) ?? '';
    if (!isValidRoomName(room)) {
      return errorPage(request, reply, 400, 'Invalid room name', roomNameProblem(room) ?? '', { href: '/chat/', label: 'Choose another room' });
    }
    const visitor = await who(request, reply);
    // Members-only rooms: a guest logs in first (the socket would close with 4401 anyway).
    if (accounts && isMembersOnlyRoom(room) && !visitor.account) return reply.redirect(`/log_in/?next=${encodeURIComponent(`/chat/${encodeURIComponent(room)}/`)}`, 303);
    // As Django's json_script: "<" escaped so the JSON can never close the <script> element.
    const roomJson = JSON.stringify(room).replace(/</g, '\\u003c');
    return page(reply, 200, 'chat-room', { title: `Room ${room}`, room, roomJson, membersOnly: isMembersOnlyRoom(room), maxMessageChars: MAX_MESSAGE_CHARS, ...visitor });
  });

  app.get<{ Params: { room: string } }>('/chat/:room', async (request, reply) => reply.redirect(`/chat/${encodeURIComponent(request.params.room)}/`, 301));

  // Word stream, IoT chart and dice pages (/one/, /two/, /game/, /game/<room>/) and Chart.js.
  await registerSystemPages(app, {
    render: (view, data) => eta.render(view, data),
    visitor: who,
    wordStream: options.wordStream,
    ...(options.rooms ? { gameRooms: options.rooms.game } : {}),
    ingestion: options.iot === undefined ? 'absent' : options.iot.apiKey === undefined ? 'off' : 'on',
  });
  if (options.iot) registerIotApi(app, options.iot);
  if (accounts) {
    await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });
    registerAccountPages(app, {
      accounts,
      page: async (request, reply, status, view, data) => page(reply, status, view, { ...(await who(request, reply)), ...data }),
    });
  }

  // Browsers ask for it on every first visit; answer without an error page or a 404 in the log.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  // A failing request (a database fault, EMFILE, a bug): the detail goes to the log with the
  // request id; the visitor gets a plain page with that id and nothing of the error's text
  // (issue 10 item 6: `relation "sessions" does not exist` and file paths reached pages).
  // Fastify's own client errors (400 bad body, 413 too large, 415) keep their status, in words.
  const errorLogger = options.logger ?? accounts?.logger ?? silentLogger();
  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) errorLogger.error({ err, reqId: request.id, url: request.url }, `HTTP ${request.method} ${request.url.split('?')[0]} failed (request ${request.id})`);
    const heading = status === 500 ? 'Something went wrong' : status === 413 ? 'Too large' : 'Bad request';
    const message = status === 500 ? `The server could not answer this request. Try again in a moment; if it keeps failing, quote request id ${request.id}.` : `The request could not be read (HTTP ${status}, request id ${request.id}).`;
    // Plain: rendering the layout would look the visitor up in the database that may be failing.
    return reply.code(status).type('text/html; charset=utf-8').header('x-request-id', request.id).send(eta.render('error-plain', { status, heading, message, requestId: request.id }));
  });

  app.setNotFoundHandler((request, reply) =>
    errorPage(request, reply, 404, 'Not found', `Nothing lives at ${request.url.split('?')[0]}.`, { href: '/', label: 'Home' }),
  );

  return app;
}

