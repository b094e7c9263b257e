import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: bodies are checked strictly (a number is not a string, so wrong types answer 400, and a field
 * the route does not know is refused rather than dropped), while path, query and header values, which arrive as
 * text, may be coerced to the declared type.
 */
function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: coerce,
    allErrors: false,
    strict: false,
  });
  addFormats.default(ajv);
  return ajv;
}

const strict = makeAjv(false);
const coercing = makeAjv(true);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema);

/**
 * A JSON body schema with every object closed (`additionalProperties: false`) unless it says otherwise: a misspelt
 * field (`expires_in_day`) is a 400 naming it, never silently ignored into a default the caller did not choose.
 */
export function closedBody<T extends object>(schema: T): T {
  const node = schema as Record<string | symbol, unknown>;
  if (node.type !== 'object' && node.type !== 'array') return schema;
  const copy: Record<string | symbol, unknown> = { ...node };
  if (node.type === 'array' && typeof node.items === 'object' && node.items !== null) copy.items = closedBody(node.items);
  if (node.type === 'object') {
    if (node.additionalProperties === undefined) copy.additionalProperties = false;
    if (typeof node.properties === 'object' && node.properties !== null) {
      copy.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, closedBody(v as object)]));
    }
  }
  return copy as T;
}
