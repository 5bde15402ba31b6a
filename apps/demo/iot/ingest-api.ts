/**
 * The sensor ingestion API: real sensors feed the `/two/` chart.
 *
 * `POST /api/iot/:sensor/readings` with `Authorization: Bearer <apiKey>` and a JSON body
 * `{"value": 21.5, "ts": "2024-05-01T12:00:00Z"}` (`ts` optional, default: now) or an array of up
 * to 1000 of them. Each reading is stored (demo/iot/readings-store.ts) and group-sent to
 * `iot_<sensor>`, so every page watching the sensor draws it. Answers `200 {"accepted": n}`.
 *
 * Errors (Fastify's error body `{statusCode, code, error, message}`):
 * - 401 without the header or with a wrong key (compared in constant time);
 * - 400 with the reason for a bad sensor name or body (`body/0/value must be number`);
 * - 413 for a body over 64 KiB; 415 for a content type Fastify cannot parse (400 for `text/plain`);
 * - 503 when the demo runs without an API key (`IOT_API_KEY` unset).
 *
 * @example
 * ```sh
 * curl -X POST http://127.0.0.1:8000/api/iot/s1/readings \
 *   -H "Authorization: Bearer $IOT_API_KEY" -H 'Content-Type: application/json' \
 *   -d '{"value": 42}'
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ChannelLayer } from 'switchboard';
import { SENSOR_NAME_RE, readingsEvent, sensorGroup } from '../consumers/iot.js';
import type { NewReading, ReadingsStore } from './readings-store.js';

/** Largest request body accepted, in bytes (64 KiB); larger ones get 413. */
export const IOT_BODY_LIMIT_BYTES = 64 * 1024;
/** Most readings in one POST. */
export const IOT_MAX_BATCH = 1000;
/** Shortest API key accepted at start-up. */
export const IOT_MIN_API_KEY_LENGTH = 16;

/** Options of {@link registerIotApi}. */
export interface IotApiOptions {
  /** Layer the readings are group-sent on (the one the server's consumers use). */
  channelLayer: ChannelLayer;
  /** Where readings are kept for late pages. */
  store: ReadingsStore;
  /**
   * The shared secret sensors send as `Authorization: Bearer <apiKey>`, at least 16 characters.
   * `undefined` keeps the route but answers 503 naming `IOT_API_KEY`, so a missing key is visible.
   */
  apiKey: string | undefined;
  /** URL prefix. Default `/api/iot`. */
  prefix?: string;
}

// ISO-8601 date-time with a time zone, the RFC 3339 §5.6 profile (seconds optional), which
// `Date.parse` reads exactly.
const ISO_DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

/** Whether `s` is an ISO-8601 date-time with a zone that names a real instant (no 30 February). */
export function isIsoDateTime(s: string): boolean {
  const m = ISO_DATE_TIME_RE.exec(s);
  if (m === null) return false;
  const [, y, mo, d, h, mi, sec, zh, zm] = m.map(Number) as number[];
  // Date.parse rolls 2024-02-30 over to 1 March; check the fields ourselves.
  const dayCheck = new Date(Date.UTC(y!, mo! - 1, d!));
  if (dayCheck.getUTCFullYear() !== y || dayCheck.getUTCMonth() !== mo! - 1 || dayCheck.getUTCDate() !== d) return false;
  if (h! > 23 || mi! > 59 || (m[6] !== undefined && sec! > 59) || (m[7] !== undefined && (zh! > 23 || zm! > 59))) return false;
  return !Number.isNaN(Date.parse(s));
}

/** JSON schema of one reading. */
export const READING_SCHEMA = {
  type: 'object',
  properties: {
    value: { type: 'number' },
    ts: { type: 'string', format: 'iso-date-time', maxLength: 40 },
  },
  required: ['value'],
  additionalProperties: false,
} as const;

/** JSON schema of the request body: one reading or a batch of 1 to {@link IOT_MAX_BATCH}. */
export const READINGS_BODY_SCHEMA = {
  oneOf: [READING_SCHEMA, { type: 'array', items: READING_SCHEMA, minItems: 1, maxItems: IOT_MAX_BATCH }],
} as const;

/** JSON schema of the path parameters. */
export const SENSOR_PARAMS_SCHEMA = {
  type: 'object',
  properties: { sensor: { type: 'string', pattern: SENSOR_NAME_RE.source } },
  required: ['sensor'],
} as const;

const RESPONSE_SCHEMA = {
  200: { type: 'object', properties: { accepted: { type: 'integer' } }, required: ['accepted'] },
} as const;

// Our own Ajv, not Fastify's default one: Fastify's coerces types (`"value": null` would become 0
// and `"value": true` 1), and we want a reading to be a JSON number or a 400.
const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false, strict: true });
ajv.addFormat('iso-date-time', {
  type: 'string',
  validate: isIsoDateTime,
});
const validateReading = ajv.compile(READING_SCHEMA);
const validateBatch = ajv.compile({ type: 'array', items: READING_SCHEMA, minItems: 1, maxItems: IOT_MAX_BATCH });
const validateParams = ajv.compile(SENSOR_PARAMS_SCHEMA);

function describeErrors(part: string, errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return `${part} is invalid`;
  const where = `${part}${e.instancePath}`;
  if (e.keyword === 'format') return `${where} must be an ISO-8601 date-time with a time zone, e.g. "2024-05-01T12:00:00Z"`;
  if (e.keyword === 'additionalProperties') return `${where} has an unknown property "${String(e.params.additionalProperty)}"; a reading is {value, ts?}`;
  if (e.keyword === 'pattern' && part === 'params') return `${where} must be 1 to 64 characters of [A-Za-z0-9_-]`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

function validationError(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_VALIDATION' });
}

/**
 * Validators for this API's route schemas: the body is one reading or an array, dispatched on its
 * shape so a bad reading gets one precise reason (`body/3/value must be number`) instead of the
 * two-branch noise of `oneOf`. The declared schemas above document the same rules.
 */
const compileValidator: FastifySchemaCompiler<unknown> = ({ httpPart }) => {
  if (httpPart === 'body') {
    return (data: unknown) => {
      // Fastify also parses text/plain (to a string): say what to send instead of "must be object".
      if (data === null || typeof data !== 'object') {
        return { error: validationError('body must be a reading {"value": <number>, "ts"?: <ISO-8601>} or an array of 1 to 1000 of them, sent as Content-Type: application/json') };
      }
      const check: ValidateFunction = Array.isArray(data) ? validateBatch : validateReading;
      return check(data) ? { value: data } : { error: validationError(describeErrors('body', check.errors)) };
    };
  }
  if (httpPart === 'params') {
    return (data: unknown) => (validateParams(data) ? { value: data } : { error: validationError(describeErrors('params', validateParams.errors)) });
  }
  return (data: unknown) => ({ value: data });
};

/** SHA-256 digests have equal lengths, as `timingSafeEqual` needs, whatever the key lengths. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

type ReadingBody = { value: number; ts?: string } | Array<{ value: number; ts?: string }>;

/**
 * Registers `POST <prefix>/:sensor/readings` on `app` (call before `app.ready()` / `listen()`).
 * @throws RangeError when `apiKey` is given but shorter than 16 characters (a start-up error).
 */
export function registerIotApi(app: FastifyInstance, options: IotApiOptions): void {
  const { channelLayer, store, apiKey } = options;
  const prefix = (options.prefix ?? '/api/iot').replace(/\/+$/, '');
  if (apiKey !== undefined && apiKey.length < IOT_MIN_API_KEY_LENGTH) {
    throw new RangeError(`IOT_API_KEY: the key is ${apiKey.length} characters; use at least ${IOT_MIN_API_KEY_LENGTH}, e.g. \`openssl rand -hex 24\``);
  }
  const expected = apiKey === undefined ? undefined : digest(apiKey);

  // onRequest runs before the body is read: a caller without the key never gets its body parsed.
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined) {
      await reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'sensor ingestion is off: set IOT_API_KEY (16+ characters) and restart' });
      return reply;
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="iot"')
        .send({ statusCode: 401, error: 'Unauthorized', message: match === null ? 'send Authorization: Bearer <IOT_API_KEY>' : 'wrong API key' });
      return reply;
    }
  };

  app.post<{ Params: { sensor: string }; Body: ReadingBody }>(
    `${prefix}/:sensor/readings`,
    {
      bodyLimit: IOT_BODY_LIMIT_BYTES,
      schema: { params: SENSOR_PARAMS_SCHEMA, body: READINGS_BODY_SCHEMA, response: RESPONSE_SCHEMA },
      validatorCompiler: compileValidator,
      onRequest: authenticate,
    },
    async (request) => {
      const { sensor } = request.params;
      const body = request.body;
      const now = new Date().toISOString();
      // The body comes from the sensor: validated above; ts normalised to UTC ISO-8601.
      const readings: NewReading[] = (Array.isArray(body) ? body : [body]).map((r) => ({
        value: r.value,
        ts: r.ts === undefined ? now : new Date(r.ts).toISOString(),
      }));
      const stored = await store.add(sensor, readings);
      await channelLayer.groupSend(sensorGroup(sensor), readingsEvent(sensor, stored));
      return { accepted: stored.length };
    },
  );
}
