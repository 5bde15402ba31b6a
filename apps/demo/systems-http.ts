/**
 * Pages of three seed systems, as a Fastify registration: `/one/` (word stream), `/two/` (IoT
 * chart), `/game/` and `/game/<room>/` (dice rooms), plus Chart.js and its date adapter served
 * from `node_modules` (no CDN, DESIGN.md §5). Page scripts live in `demo/public/` (`one.js`,
 * `two.js`, `game.js`, ES modules on the browser client SDK, see {@link CLIENT_SDK_URL}) and are
 * served by the app's `/static/`.
 *
 * Views are rendered by the caller's `render(view, data)` (the demo's Eta instance, escaping on);
 * they extend `layout.eta`, which shows the visitor ({@link PageVisitor}).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GUEST_COOKIE, newGuestName, processGuestIdentity, type GuestIdentity } from './accounts/guest-identity.js';
import { SENSOR_NAME_RE } from './consumers/iot.js';
import { DEFAULT_STREAM_OPTIONS, type TimedStreamOptions } from './consumers/words.js';
import { listRooms, type RoomDirectory } from './consumers/room-directory.js';
import { ROOM_NAME_HTML_PATTERN, isValidRoomName, normalizeRoomName, roomNameProblem } from './consumers/room-name.js';

/** Renders a view (`'one'`, `'two'`, `'game'`, `'error'`) with `data` to HTML. */
export type RenderFn = (view: string, data: Record<string, unknown>) => string | Promise<string>;

/** Who the layout shows (`layout.eta`). */
export interface PageVisitor {
  /** The display name: the logged-in username, or the guest name. */
  readonly username: string;
  /**
   * The logged-in username, `null` for a guest (the nav offers "Log in / Sign up"); left out when
   * the app has no accounts (the nav has no account links).
   */
  readonly account?: string | null;
}

/** Options of {@link registerSystemPages}. */
export interface SystemPagesOptions {
  /** Renders views from `demo/views/`. */
  render: RenderFn;
  /**
   * The visitor, for the layout. Default: the guest name of {@link guestName}, no account. Pass
   * the app's own when it has accounts.
   */
  visitor?: (request: FastifyRequest, reply: FastifyReply) => PageVisitor | Promise<PageVisitor>;
  /** Sensors the chart shows when the URL has no `?sensors=`. Default `['s1']`. */
  defaultSensors?: readonly string[];
  /** Points kept per line on the chart. Default 200. */
  chartWindowPoints?: number;
  /**
   * The word stream's timing, as routed (systems-routes.ts), so `/one/` says how often and how
   * many. Default: WordStreamConsumer's (every 2000 ms, 100 words).
   */
  wordStream?: TimedStreamOptions;
  /** The open dice rooms `/game/` lists. Default: none listed. */
  gameRooms?: RoomDirectory;
  /**
   * Whether sensors can post readings, for the chart's hint: `on` (`IOT_API_KEY` set), `off`
   * (not set: the API answers 503), `absent` (not routed). Default `absent`.
   */
  ingestion?: 'on' | 'off' | 'absent';
}

/** Where the browser loads Chart.js and the date adapter from. */
export const CHART_JS_URL = '/vendor/chart.umd.js';
export const CHART_ADAPTER_URL = '/vendor/chartjs-adapter-date-fns.bundle.min.js';
/**
 * Where the browser loads the framework's client SDK (`switchboard/client/bundle`, one ES module
 * file) from; its source map is next to it. The page scripts `import { SwitchboardSocket } from` this URL.
 */
export const CLIENT_SDK_URL = '/client/switchboard-client.js';
/** Most sensors one chart subscribes to. */
export const MAX_CHART_SENSORS = 8;

const GUEST_COOKIE_MAX_AGE_S = 365 * 24 * 3600;

/**
 * The visitor's guest name: the name of the `sb_guest` cookie when its signature is right, else a
 * new name whose signed cookie (HttpOnly, SameSite=Lax, one year) is set on `reply`; the same
 * cookie the chat and the dice consumers read (demo/accounts/guest-identity.ts). The cookie comes
 * from the client: a forged or unsigned one is replaced, never honoured.
 */
export function guestName(request: FastifyRequest, reply: FastifyReply, identity: GuestIdentity = processGuestIdentity()): string {
  const header = request.headers.cookie;
  const current = identity.nameOf(header ? parseCookies(header)[GUEST_COOKIE] : undefined);
  if (current !== null) return current;
  const name = newGuestName();
  reply.header(
    'set-cookie',
    serializeCookie(GUEST_COOKIE, identity.cookieValue(name), { path: '/', httpOnly: true, sameSite: 'lax', maxAge: GUEST_COOKIE_MAX_AGE_S, secure: request.protocol === 'https' }),
  );
  return name;
}

/** A file the browser loads (a bundle from a package or from the build), read once and served with an ETag. */
export interface ServedFile {
  readonly url: string;
  /** Absolute path. */
  readonly file: string;
  /** `cache-control`. Default `public, max-age=86400`. */
  readonly cacheControl?: string;
  /** Read at start-up; when the file is missing, the error says this. */
  readonly missing?: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Serves each file at its URL with an ETag (`If-None-Match` → 304). Files are read now, so a
 * missing one fails at start-up, not on the first page view.
 * @throws Error naming the file (and `missing`) when one cannot be read.
 */
export async function serveFiles(app: FastifyInstance, files: readonly ServedFile[]): Promise<void> {
  for (const served of files) {
    let body: Buffer;
    try {
      body = await readFile(served.file);
    } catch (err) {
      throw new Error(`cannot read ${served.file} for ${served.url}${served.missing ? `: ${served.missing}` : ''} (${(err as Error).message})`, { cause: err });
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const type = CONTENT_TYPES[extname(served.file)] ?? 'application/octet-stream';
    const cacheControl = served.cacheControl ?? 'public, max-age=86400';
    app.get(served.url, async (request, reply) => {
      reply.header('etag', etag).header('cache-control', cacheControl);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
}

/**
 * The client SDK bundle and its source map, from the installed framework (`switchboard/client/bundle`,
 * one ES module file). Revalidated on each load (`no-cache`, ETag): it changes with every build.
 */
export function clientSdkFiles(): ServedFile[] {
  const bundle = fileURLToPath(import.meta.resolve('switchboard/client/bundle'));
  const missing = 'run `npm run build` (the switchboard package bundles its client SDK)';
  return [
    { url: CLIENT_SDK_URL, file: bundle, cacheControl: 'no-cache', missing },
    { url: `${CLIENT_SDK_URL}.map`, file: `${bundle}.map`, cacheControl: 'no-cache', missing },
  ];
}

function vendorFiles(): ServedFile[] {
  const require = createRequire(import.meta.url);
  // Resolve through the packages' own entry points (their "exports" do not list the bundles).
  const chartDist = dirname(require.resolve('chart.js')); // …/chart.js/dist/chart.cjs
  const adapterDist = dirname(require.resolve('chartjs-adapter-date-fns')); // …/dist/…min.js
  return [
    { url: CHART_JS_URL, file: join(chartDist, 'chart.umd.js') },
    // The bundle includes date-fns, so the page needs no third script.
    { url: CHART_ADAPTER_URL, file: join(adapterDist, 'chartjs-adapter-date-fns.bundle.min.js') },
  ];
}

/** The sensors to chart: `?sensors=a,b` (valid names only, at most 8) or the defaults. */
function chartSensors(query: unknown, defaults: readonly string[]): string[] {
  const raw = (query as { sensors?: unknown }).sensors;
  const text = Array.isArray(raw) ? raw.join(',') : typeof raw === 'string' ? raw : undefined;
  if (text === undefined) return [...defaults];
  // From the URL: untrusted. Keep well-formed names, drop duplicates.
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter((s) => SENSOR_NAME_RE.test(s)))];
  return names.slice(0, MAX_CHART_SENSORS);
}

/** `2000` → "2 seconds", `1000` → "second", `200` → "200 ms": for "a word every …". */
export function describeInterval(ms: number): string {
  if (ms === 1000) return 'second';
  return ms % 1000 === 0 ? `${ms / 1000} seconds` : `${ms} ms`;
}

/**
 * Registers `GET /one/`, `/two/` (`?sensors=s1,s2`), `/game/` (`?room=` redirects to the room),
 * `/game/:room/` (400 page for a bad name), `/game/:room` (301 to the slash form) and the two
 * vendor scripts. Call before `app.ready()`.
 * @throws Error at registration when Chart.js or the adapter is not installed.
 */
export async function registerSystemPages(app: FastifyInstance, options: SystemPagesOptions): Promise<void> {
  const { render } = options;
  const visitor = options.visitor ?? ((request: FastifyRequest, reply: FastifyReply): PageVisitor => ({ username: guestName(request, reply) }));
  const defaultSensors = (options.defaultSensors ?? ['s1']).filter((s) => SENSOR_NAME_RE.test(s));
  const windowPoints = options.chartWindowPoints ?? 200;
  const wordEvery = describeInterval(options.wordStream?.intervalMs ?? DEFAULT_STREAM_OPTIONS.intervalMs);
  const wordCount = options.wordStream?.count ?? DEFAULT_STREAM_OPTIONS.count;

  const page = async (request: FastifyRequest, reply: FastifyReply, status: number, view: string, data: Record<string, unknown>): Promise<FastifyReply> => {
    const html = await render(view, { ...(await visitor(request, reply)), ...data });
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  };

  await serveFiles(app, vendorFiles());

  app.get('/one/', async (request, reply) => page(request, reply, 200, 'one', { title: 'Random words', wordEvery, wordCount }));

  app.get('/two/', async (request, reply) => {
    const sensors = chartSensors(request.query, defaultSensors);
    return page(request, reply, 200, 'two', {
      title: 'IoT live chart',
      sensors,
      sensorsCsv: sensors.join(','),
      windowPoints,
      chartJsUrl: CHART_JS_URL,
      chartAdapterUrl: CHART_ADAPTER_URL,
      ingestion: options.ingestion ?? 'absent',
    });
  });

  app.get<{ Querystring: { room?: string | string[] } }>('/game/', async (request, reply) => {
    const room = request.query.room;
    const rooms = await listRooms(options.gameRooms, '/game/');
    if (room === undefined) return page(request, reply, 200, 'game', { title: 'Dice game', room: '', error: null, roomPattern: ROOM_NAME_HTML_PATTERN, rooms });
    const name = normalizeRoomName((Array.isArray(room) ? (room[0] ?? '') : room).trim()) ?? '';
    const problem = roomNameProblem(name);
    if (problem !== null) return page(request, reply, 400, 'game', { title: 'Dice game', room: '', roomInput: name, error: problem, roomPattern: ROOM_NAME_HTML_PATTERN, rooms });
    return reply.redirect(`/game/${encodeURIComponent(name)}/`, 303);
  });

  app.get<{ Params: { room: string } }>('/game/:room/', async (request, reply) => {
    const room = normalizeRoomName(request.params.room) ?? '';
    if (!isValidRoomName(room)) {
      return page(request, reply, 400, 'error', {
        title: 'Invalid room name',
        status: 400,
        heading: 'Invalid room name',
        message: roomNameProblem(room) ?? '',
        back: { href: '/game/', label: 'Choose another room' },
      });
    }
    return page(request, reply, 200, 'game', { title: `Dice game · ${room}`, room, error: null });
  });

  app.get<{ Params: { room: string } }>('/game/:room', async (request, reply) => reply.redirect(`/game/${encodeURIComponent(request.params.room)}/`, 301));
}
