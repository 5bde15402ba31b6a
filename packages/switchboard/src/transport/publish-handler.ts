/**
 * The publish endpoint: `POST {group, event}` sends `event` to a group from outside any
 * connection (seed 002's `send_message`, over HTTP). `switchboard send --url` speaks it. The app
 * mounts the handler where it wants, behind its own authentication.
 *
 * Everything in the request comes from outside: authentication runs before the body is read, the
 * body is bounded, and the group name and event type are checked by the layer's own rules.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handlerNameFor } from '../consumer/handler-name.js';
import { SwitchboardError } from '../errors.js';
import { validateGroupName, type ChannelLayer, type LayerMessage } from '../layers/channel-layer.js';
import type { Logger } from '../logging.js';
import { bearerChecker } from './bearer.js';

/** Request body of the publish endpoint. */
export interface PublishRequest {
  /** Group name, 1 to 99 characters of `[A-Za-z0-9._-]`. */
  group: string;
  /** `{type, ...}`; `type` selects the handler (`chat.message` → `chatMessage`). */
  event: { type: string; [key: string]: unknown };
}

/** Answer of a successful publish: the layer's `GroupSendResult`. */
export interface PublishResponse {
  /** In-memory layer: members that got the event. Redis layer: server processes the PUBLISH reached. */
  recipients: number;
  /** Members of this process skipped because their channel was full. */
  dropped: number;
  /** Whether the layer is cross-process (Redis): then `recipients` counts processes. */
  crossProcess: boolean;
}

/** Answer of a refused request. */
export interface PublishErrorResponse {
  statusCode: number;
  error: string;
  /** `SB_ERR_*` (`SB_ERR_UNAUTHORIZED`, `SB_ERR_INVALID_GROUP_NAME`, …). */
  code: string;
  message: string;
}

/** The verdict of an {@link PublishHandlerOptions.authorize} check. */
export type PublishAuthorization = true | { status: 401 | 403; message: string; wwwAuthenticate?: string };

/** Options of {@link createPublishHandler}. */
export interface PublishHandlerOptions {
  /** The layer events are sent through (`groupSend`). */
  channelLayer: ChannelLayer;
  /**
   * Decides before the body is read. Return `true` to go on, or the refusal. Use
   * {@link bearerAuthorization} for a shared token. Required: there is no unauthenticated default.
   */
  authorize(request: IncomingMessage): PublishAuthorization | Promise<PublishAuthorization>;
  /** Largest body accepted. Default 1 MiB (the layer's default `maxMessageBytes`). */
  maxBodyBytes?: number;
  /** One `info` line per publish, `error` for unexpected failures. Default: none. */
  logger?: Logger;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Framework errors that mean "your request is wrong", with their HTTP status. */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  SB_ERR_INVALID_GROUP_NAME: 400,
  SB_ERR_INVALID_MESSAGE: 400,
  SB_ERR_INVALID_EVENT_TYPE: 400,
  SB_ERR_MESSAGE_TOO_LARGE: 413,
};

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link bearerAuthorization}. */
export interface BearerAuthorizationOptions {
  /** `realm` of the `WWW-Authenticate` challenge. Default `'switchboard'`. */
  realm?: string;
  /** Where the caller finds the token, appended to refusals (e.g. the variable that holds it). */
  hint?: string;
}

/**
 * `authorize` for a shared token sent as `Authorization: Bearer <token>` (RFC 6750), compared in
 * constant time; a refusal carries `WWW-Authenticate: Bearer` (`error="invalid_token"` for a wrong one).
 * @throws TypeError for a token under 16 characters.
 */
export function bearerAuthorization(token: string, options: BearerAuthorizationOptions = {}): PublishHandlerOptions['authorize'] {
  const check = bearerChecker(token);
  const realm = options.realm ?? 'switchboard';
  const hint = options.hint === undefined ? '' : `; ${options.hint}`;
  return (request) => {
    const verdict = check(request.headers.authorization);
    if (verdict === 'ok') return true;
    if (verdict === 'missing') return { status: 401, message: `send the token as "Authorization: Bearer <token>"${hint}`, wwwAuthenticate: `Bearer realm="${realm}"` };
    return { status: 401, message: `the token is wrong${hint}`, wwwAuthenticate: `Bearer realm="${realm}", error="invalid_token"` };
  };
}

/** Checks a parsed body; answers the first problem, naming the field. */
function checkBody(body: unknown): PublishRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', 'body must be a JSON object {"group": …, "event": {"type": …}}');
  const { group, event, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', `body must NOT have additional properties; found ${JSON.stringify(extra[0])}`);
  if (group === undefined) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', "body must have required property 'group'");
  if (typeof group !== 'string') throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', 'body/group must be string');
  if (event === undefined) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', "body must have required property 'event'");
  if (event === null || typeof event !== 'object' || Array.isArray(event)) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', 'body/event must be object');
  const type = (event as { type?: unknown }).type;
  if (type === undefined) throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', "body/event must have required property 'type'");
  if (typeof type !== 'string') throw new Refusal(400, 'SB_ERR_INVALID_MESSAGE', 'body/event/type must be string');
  return { group, event: event as PublishRequest['event'] };
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new Refusal(413, 'SB_ERR_MESSAGE_TOO_LARGE', `body of ${declared} bytes is over the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Refusal(413, 'SB_ERR_MESSAGE_TOO_LARGE', `body is over the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function answer(response: ServerResponse, status: number, body: PublishResponse | PublishErrorResponse, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

function refuse(response: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  answer(response, status, { statusCode: status, error: STATUS_TEXT[status] ?? 'Error', code, message }, headers);
}

/**
 * A `node:http` request handler for the publish endpoint; mount it at any path (Express:
 * `app.post('/api/publish', handler)`; `node:http`: call it for that path).
 *
 * `POST`, `Content-Type: application/json`, body {@link PublishRequest} of at most `maxBodyBytes`.
 * Answers (every error body is {@link PublishErrorResponse}):
 * - 200 {@link PublishResponse};
 * - 401/403 from `authorize`, before the body is read (`SB_ERR_UNAUTHORIZED`, `SB_ERR_FORBIDDEN`);
 * - 400 for a body that is not JSON or misses a field (the message names it), or names an invalid
 *   group or event type (`SB_ERR_INVALID_GROUP_NAME`, `SB_ERR_INVALID_EVENT_TYPE`);
 * - 405 for another method, 413 over the size limit or the layer's `maxMessageBytes`, 415 for
 *   another content type;
 * - 503 when the layer is closed or its backend unreachable.
 * @throws TypeError at creation when `authorize` is missing.
 */
export function createPublishHandler(options: PublishHandlerOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const { channelLayer, logger } = options;
  if (typeof options.authorize !== 'function') throw new TypeError('createPublishHandler: authorize is required (e.g. bearerAuthorization(token)); a publish endpoint without authentication lets anyone push to every group');
  const limit = options.maxBodyBytes ?? 1_048_576;
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') return refuse(response, 405, 'SB_ERR_METHOD_NOT_ALLOWED', 'use POST', { allow: 'POST' });
    const verdict = await options.authorize(request);
    if (verdict !== true) {
      request.resume();
      return refuse(response, verdict.status, verdict.status === 401 ? 'SB_ERR_UNAUTHORIZED' : 'SB_ERR_FORBIDDEN', verdict.message, verdict.wwwAuthenticate ? { 'www-authenticate': verdict.wwwAuthenticate } : {});
    }
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      request.resume();
      return refuse(response, 415, 'SB_ERR_UNSUPPORTED_MEDIA_TYPE', `send Content-Type: application/json, not ${JSON.stringify(type || 'none')}`);
    }
    let parsed: unknown;
    const text = await readBody(request, limit);
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Refusal(400, 'SB_ERR_INVALID_JSON', `body is not valid JSON: ${(err as Error).message}`);
    }
    const { group, event } = checkBody(parsed);
    validateGroupName(group, 'publish');
    handlerNameFor(event.type); // refuses `_private` types and lifecycle names (`send`, `close`, …)
    const { recipients, dropped } = await channelLayer.groupSend(group, event as LayerMessage);
    logger?.info({ group, type: event.type, recipients, dropped }, `publish: ${event.type} to ${group}, ${recipients} recipient(s)`);
    answer(response, 200, { recipients, dropped, crossProcess: channelLayer.capabilities.crossProcess });
  };
  return (request, response) => {
    handle(request, response).catch((err: unknown) => {
      if (response.headersSent) return;
      if (err instanceof Refusal) {
        request.resume();
        return refuse(response, err.status, err.code, err.message);
      }
      if (err instanceof SwitchboardError) {
        const status = CLIENT_ERROR_STATUS[err.code];
        if (status !== undefined) return refuse(response, status, err.code, err.message);
        if (err.code === 'SB_ERR_LAYER_CLOSED' || err.code.includes('UNAVAILABLE')) {
          logger?.error({ err }, 'publish: channel layer unavailable');
          return refuse(response, 503, err.code, `the channel layer cannot send right now: ${err.message}`);
        }
      }
      logger?.error({ err, url: request.url }, 'publish: unexpected error');
      refuse(response, 500, 'SB_ERR_INTERNAL', 'internal error; see the server log');
    });
  };
}
