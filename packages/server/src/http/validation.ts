import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Two validators: bodies are checked strictly (a number is not a string, so wrong types answer 400), while path,
 * query and header values, which arrive as text, may be coerced to the declared type. Neither drops unknown
 * fields: a closed schema refuses them.
 */
function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce,
    useDefaults: true,
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
 * A JSON body or query schema with every object closed (`additionalProperties: false`) unless it says otherwise:
 * a misspelt field (`expires_in_day`) or filter (`?stauts=active`) is a 400 naming it, never silently ignored into
 * a default the caller did not choose. Routes that declare no query parameters ignore a query string (cache busters).
 */
export function closedSchema<T extends object>(schema: T): T {
  const node = schema as Record<string | symbol, unknown>;
  if (node.type !== 'object' && node.type !== 'array') return schema;
  const copy: Record<string | symbol, unknown> = { ...node };
  if (node.type === 'array' && typeof node.items === 'object' && node.items !== null) copy.items = closedSchema(node.items);
  if (node.type === 'object') {
    if (node.additionalProperties === undefined) copy.additionalProperties = false;
    if (typeof node.properties === 'object' && node.properties !== null) {
      copy.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, closedSchema(v as object)]));
    }
  }
  return copy as T;
}
