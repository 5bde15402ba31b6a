/**
 * Validating what a client sends with any Standard Schema validator (zod, valibot, arktype, …;
 * https://standardschema.dev) or a JSON Schema compiled by Ajv. The Standard Schema interface is
 * copied here, as its spec asks, so no validator is a dependency.
 */
import { ValidationError } from '../errors.js';

/** The Standard Schema v1 interface (https://github.com/standard-schema/standard-schema). */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` returns. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }> };

/** The output type of a schema: what a handler receives once content passed it. */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** An Ajv `ValidateFunction` (structurally, so Ajv is not a dependency). */
export interface AjvValidateFunction<T> {
  (data: unknown): boolean;
  errors?: ReadonlyArray<{ readonly instancePath: string; readonly message?: string }> | null;
}

/**
 * Adapts an Ajv validator (`ajv.compile<T>(jsonSchema)`) to a Standard Schema, so a consumer can
 * use JSON Schema: `override receiveSchema = fromAjv(ajv.compile<Bid>(bidSchema))`.
 */
export function fromAjv<T>(validate: AjvValidateFunction<T>): StandardSchemaV1<unknown, T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'ajv',
      validate(value) {
        if (validate(value)) return { value: value as T };
        return {
          issues: (validate.errors ?? [{ instancePath: '', message: 'is invalid' }]).map((e) => ({
            message: e.message ?? 'is invalid',
            path: e.instancePath.split('/').filter(Boolean),
          })),
        };
      },
    },
  };
}

function pathOf(path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string {
  if (path === undefined || path.length === 0) return '';
  return path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.');
}

/**
 * Validates `value` with `schema`; resolves with the schema's output.
 * @throws {@link ValidationError} (`SB_ERR_VALIDATION`) naming the first failing field:
 *   `"amount": Expected number, received string`.
 */
export async function validateWith<S extends StandardSchemaV1>(schema: S, value: unknown, what: string): Promise<InferOutput<S>> {
  const result = await schema['~standard'].validate(value);
  if (result.issues === undefined) return result.value as InferOutput<S>;
  const [first] = result.issues;
  const field = pathOf(first?.path);
  const more = result.issues.length > 1 ? ` (and ${result.issues.length - 1} more)` : '';
  throw new ValidationError(`${what}${field === '' ? '' : ` "${field}"`}: ${first?.message ?? 'is invalid'}${more}`, field);
}
