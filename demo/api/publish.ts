/**
 * The publish API: `POST /api/publish {group, event}` sends `event` to a group, the HTTP form of
 * seed 002's `send_message` command. `switchboard send` uses it when the server runs the
 * in-memory layer (no Redis for another process to publish through).
 *
 * Everything in the request comes from outside: the key is checked in constant time before the
 * body is read, the body is bounded (1 MiB) and validated by a JSON schema, and the group name and
 * event type are checked again by the framework before anything is sent.
 */
import { bearerChecker } from './bearer.js';
import { Ajv } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { handlerNameFor, SwitchboardError, validateGroupName, type ChannelLayer, type LayerMessage, type Logger } from 'switchboard';

/** Largest request body accepted: 1 MiB, the channel layer's default `maxMessageBytes`. */
export const PUBLISH_MAX_BODY_BYTES = 1_048_576;

/** Options of {@link publishApi} / {@link registerPublishApi}. */
export interface PublishApiOptions {
  /** The layer events are sent through (`groupSend`). */
  channelLayer: ChannelLayer;
  /** The bearer token requests must carry (see `resolveApiKey`). At least 16 characters. */
  apiKey: string;
  /** One `info` line per publish, `error` for unexpected failures. Default: none. */
  logger?: Logger;
}

/** Request body of `POST /api/publish`. */
export interface PublishRequest {
  /** Group name, 1 to 99 characters of `[A-Za-z0-9._-]`. */
  group: string;
  /** `{type, ...}`; `type` selects the handler (`chat.message` → `chatMessage`). */
  event: { type: string; [key: string]: unknown };
}

/** Answer of a successful publish (the layer's `GroupSendResult`). */
export interface PublishResponse {
  /**
   * In-memory layer: members that got the event. Redis layer: server processes the PUBLISH
   * reached (each fans out to its own members).
   */
  recipients: number;
  /** Members of this process skipped because their channel was full. */
  dropped: number;
  /** Whether the layer is cross-process (Redis): then `recipients` counts processes. */
  crossProcess: boolean;
}

/** Answer of a refused request, Fastify's error shape plus a stable `code`. */
export interface PublishErrorResponse {
  statusCode: number;
  error: string;
  /** `SB_ERR_*` from the framework, `FST_ERR_*` from Fastify, or `SB_ERR_UNAUTHORIZED`. */
  code: string;
  message: string;
}

const BODY_SCHEMA = {
  type: 'object',
  required: ['group', 'event'],
  additionalProperties: false,
  properties: {
    // The name rules are the layer's (validateGroupName), so a bad name gets its precise message.
    group: { type: 'string' },
    event: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z][A-Za-z0-9._-]*$' },
      },
    },
  },
} as const;

const RESPONSE_SCHEMA = {
  200: {
    type: 'object',
    required: ['recipients', 'dropped', 'crossProcess'],
    properties: { recipients: { type: 'integer' }, dropped: { type: 'integer' }, crossProcess: { type: 'boolean' } },
  },
} as const;

/** Framework errors that mean "your request is wrong", with their HTTP status. */
const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  SB_ERR_INVALID_GROUP_NAME: 400,
  SB_ERR_INVALID_MESSAGE: 400,
  SB_ERR_INVALID_EVENT_TYPE: 400,
  SB_ERR_MESSAGE_TOO_LARGE: 413,
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function refuse(reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  const body: PublishErrorResponse = { statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', code, message };
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body);
}

/**
 * The publish API as an encapsulated Fastify plugin (its hooks, validator and error handler apply
 * to its own route only). Register it before `app.ready()`.
 *
 * `POST /api/publish`, `Content-Type: application/json`, `Authorization: Bearer <apiKey>`,
 * body {@link PublishRequest}, at most {@link PUBLISH_MAX_BODY_BYTES}. Answers:
 * - 200 {@link PublishResponse};
 * - 401 without a valid key, with `WWW-Authenticate: Bearer` (RFC 6750 §3; `error="invalid_token"`
 *   when a wrong key was sent), checked before the body is read;
 * - 400 for a body that fails the schema (`FST_ERR_VALIDATION`, the message names the field), is
 *   not JSON, or names an invalid group or event type (`SB_ERR_INVALID_GROUP_NAME`,
 *   `SB_ERR_INVALID_EVENT_TYPE`, `SB_ERR_INVALID_MESSAGE`);
 * - 413 for a body over 1 MiB (`FST_ERR_CTP_BODY_TOO_LARGE`) or an event over the layer's
 *   `maxMessageBytes` (`SB_ERR_MESSAGE_TOO_LARGE`); 415 for another content type;
 * - 503 when the layer is closed or cannot reach Redis.
 * Every error body is {@link PublishErrorResponse}.
 */
export const publishApi: FastifyPluginAsync<PublishApiOptions> = async (app, options) => {
  const { channelLayer, logger } = options;
  if (typeof options.apiKey !== 'string' || options.apiKey.length < 16) {
    throw new TypeError('publishApi: apiKey must be a string of at least 16 characters (see resolveApiKey)');
  }
  const checkKey = bearerChecker(options.apiKey);

  // Strict validation: Fastify's default Ajv coerces types (a number would pass as a group name).
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: true });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  // JSON only: without this, Fastify's text/plain parser would turn a text body into a 400 from the
  // schema ("body must be object") instead of the 415 it deserves. Scoped to this plugin.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (request, reply) => {
    const verdict = checkKey(request.headers.authorization);
    if (verdict === 'missing') {
      reply.header('www-authenticate', 'Bearer realm="switchboard"');
      return refuse(reply, 401, 'SB_ERR_UNAUTHORIZED', 'send the API key as "Authorization: Bearer <key>" (SWITCHBOARD_API_KEY, or the key the server printed at first start, stored in data/api-key)');
    }
    if (verdict === 'wrong') {
      reply.header('www-authenticate', 'Bearer realm="switchboard", error="invalid_token"');
      return refuse(reply, 401, 'SB_ERR_UNAUTHORIZED', 'the API key is wrong; use SWITCHBOARD_API_KEY, or the key stored in data/api-key');
    }
    return undefined;
  });

  app.setErrorHandler((error: FastifyError | SwitchboardError | Error, request, reply) => {
    if (error instanceof SwitchboardError) {
      const status = CLIENT_ERROR_STATUS[error.code];
      if (status !== undefined) return refuse(reply, status, error.code, error.message);
      if (error.code === 'SB_ERR_LAYER_CLOSED' || /REDIS|UNAVAILABLE/.test(error.code)) {
        logger?.error({ err: error }, 'publish API: channel layer unavailable');
        return refuse(reply, 503, error.code, `the channel layer cannot send right now: ${error.message}`);
      }
    }
    const fastifyError = error as FastifyError;
    const statusCode = fastifyError.statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      return refuse(reply, statusCode, fastifyError.code ?? 'FST_ERR', error.message);
    }
    logger?.error({ err: error, url: request.url }, 'publish API: unexpected error');
    return refuse(reply, 500, 'SB_ERR_INTERNAL', 'internal error; see the server log');
  });

  app.post<{ Body: PublishRequest; Reply: PublishResponse | PublishErrorResponse }>(
    '/api/publish',
    { bodyLimit: PUBLISH_MAX_BODY_BYTES, schema: { body: BODY_SCHEMA, response: RESPONSE_SCHEMA } },
    async (request) => {
      const { group, event } = request.body;
      validateGroupName(group, 'POST /api/publish');
      handlerNameFor(event.type); // refuses `_private` types and lifecycle names (`send`, `close`, …)
      const { recipients, dropped } = await channelLayer.groupSend(group, event as LayerMessage);
      logger?.info({ group, type: event.type, recipients, dropped }, `publish API: ${event.type} to ${group}, ${recipients} recipient(s)`);
      return { recipients, dropped, crossProcess: channelLayer.capabilities.crossProcess };
    },
  );
};

/**
 * Registers {@link publishApi} on `app` (call before `app.ready()`).
 * @example `await registerPublishApi(http, { channelLayer, apiKey: apiKey.key });`
 */
export async function registerPublishApi(app: FastifyInstance, options: PublishApiOptions): Promise<void> {
  await app.register(publishApi, options);
}
