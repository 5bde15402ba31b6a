/**
 * The publish API: `POST /api/publish {group, event}` sends `event` to a group, the HTTP form of
 * seed 002's `send_message` command. It is the framework's publish endpoint
 * (`createPublishHandler`, which `switchboard send --url` speaks) mounted in Fastify behind the
 * demo's API key; `switchboard-demo send` uses it when the server runs the in-memory layer.
 */
import type { FastifyInstance } from 'fastify';
import { bearerAuthorization, createPublishHandler, type ChannelLayer, type Logger } from 'switchboard';

/** Largest request body accepted: 1 MiB, the channel layer's default `maxMessageBytes`. */
export const PUBLISH_MAX_BODY_BYTES = 1_048_576;

/** Options of {@link registerPublishApi}. */
export interface PublishApiOptions {
  /** The layer events are sent through (`groupSend`). */
  channelLayer: ChannelLayer;
  /** The bearer token requests must carry (see `resolveApiKey`). At least 16 characters. */
  apiKey: string;
  /** One `info` line per publish, `error` for unexpected failures. Default: none. */
  logger?: Logger;
}

/**
 * Mounts the publish endpoint at `POST /api/publish` (call before `app.ready()`). The request is
 * handed to the framework's handler untouched (`reply.hijack()` before Fastify reads the body),
 * so its answers are the framework's: 200, 401 (with `WWW-Authenticate: Bearer`), 400, 405, 413,
 * 415, 503, bodies `{statusCode, error, code, message}`.
 * @throws TypeError for an API key under 16 characters.
 */
export async function registerPublishApi(app: FastifyInstance, options: PublishApiOptions): Promise<void> {
  const handler = createPublishHandler({
    channelLayer: options.channelLayer,
    authorize: bearerAuthorization(options.apiKey, { hint: 'the key is SWITCHBOARD_API_KEY, or the one the server printed at its first start (stored in data/api-key)' }),
    maxBodyBytes: PUBLISH_MAX_BODY_BYTES,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  app.route({
    method: ['POST', 'GET', 'PUT', 'DELETE', 'PATCH'],
    url: '/api/publish',
    // No done(): after hijack() the lifecycle ends here, the framework's handler answers.
    onRequest: (request, reply) => {
      reply.hijack();
      handler(request.raw, reply.raw);
    },
    handler: async () => undefined,
  });
}
