import fc from 'fast-check';
import type { JsonSchema, Operation, Parameter } from './openapi.js';

/**
 * fast-check arbitraries derived from the OpenAPI schemas: for every field a mix of values the schema allows,
 * values just past its bounds, values of the wrong type, and strings an attacker would try.
 */

/** Strings that have broken parsers, queries and log pipelines somewhere. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1; SELECT pg_sleep(5) --",
  "admin'--",
  '%',
  '_',
  '%%%_\\',
  '\\',
  '\u0000',
  'a\u0000b',
  '%00',
  '\r\nSet-Cookie: injected=1',
  '\n',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '__proto__',
  'constructor',
  'prototype',
  '${7*7}',
  '{{7*7}}',
  '%s%s%s%n',
  '<script>alert(1)</script>',
  'javascript:alert(1)',
  'https://evil.example/',
  '//evil.example',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u0644\u0627',
  '🦄🔑',
  'ﬁ',
  'İ',
  '\uFEFF',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x7fffffff',
  '9007199254740993',
  'null',
  'true',
  '[]',
  '{"$gt": ""}',
  'ak_live_0000000000',
  'rt_00000000-0000-4000-8000-000000000000.AAAA',
  '6b0f2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d',
  '00000000-0000-0000-0000-000000000000',
  'x'.repeat(257),
  'x'.repeat(4097),
  'é'.repeat(3000),
];

const WRONG_TYPES: readonly unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, [], [null], {}, { a: { b: { c: 1 } } }, 'string'];

const hostileString = fc.constantFrom(...HOSTILE_STRINGS);

function types(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  return schema.type ? [schema.type] : [];
}

/** Values the schema accepts (as far as a generator can tell: patterns are matched, formats approximated). */
export function validValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(validValue));
  const [type] = types(schema);
  switch (type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1000, Number.MIN_SAFE_INTEGER), max: Math.min(schema.maximum ?? 1_000_000, Number.MAX_SAFE_INTEGER) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(schema.items ? validValue(schema.items) : fc.string(), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object':
      return objectOf(schema, validValue);
    default:
      return fc.oneof(fc.string(), fc.integer(), fc.boolean());
  }
}

function validString(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 64, 64);
  if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 320));
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.pattern) {
    return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity));
  }
  return fc.string({ minLength: min, maxLength: Math.max(min, max), unit: 'grapheme' });
}

/** Values at and just past the schema's bounds. */
export function boundaryValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const [type] = types(schema);
  if (type === 'string') {
    const lengths = [0, 1, schema.minLength, schema.maxLength, schema.maxLength !== undefined ? schema.maxLength + 1 : 10_000]
      .filter((n): n is number => n !== undefined)
      .flatMap((n) => (n > 0 ? [n - 1, n] : [n]));
    return fc.tuple(fc.constantFrom(...lengths), fc.constantFrom('a', '0', 'é', '🔑', ' ', ':')).map(([n, c]) => c.repeat(Math.max(0, Math.floor(n / c.length))));
  }
  if (type === 'integer' || type === 'number') {
    const edges = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined).flatMap((n) => [n - 1, n, n + 1]);
    return fc.constantFrom(...edges, 0, -1, 0.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -Number.MAX_SAFE_INTEGER, 1e21);
  }
  if (type === 'array') {
    const item = schema.items ? validValue(schema.items) : fc.constant('x');
    return fc.oneof(fc.constant([]), fc.array(item, { minLength: (schema.maxItems ?? 50) + 1, maxLength: (schema.maxItems ?? 50) + 1 }), fc.array(fc.constant('dup'), { minLength: 2, maxLength: 3 }));
  }
  return wrongType;
}

export const wrongType: fc.Arbitrary<unknown> = fc.constantFrom(...WRONG_TYPES);

/** The mix the fuzzer sends for one field: mostly meaningful values, so requests get past validation often. */
export function fieldValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: validValue(schema) },
    { weight: 2, arbitrary: boundaryValue(schema) },
    { weight: 2, arbitrary: hostileString },
    { weight: 1, arbitrary: wrongType },
  );
}

function objectOf(schema: JsonSchema, value: (s: JsonSchema) => fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.entries(schema.properties ?? {});
  if (props.length === 0) return fc.constant({});
  const required = new Set(schema.required ?? []);
  return fc.record(Object.fromEntries(props.map(([k, s]) => [k, value(s)])), { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) });
}

/** A JSON body for the schema as raw text: fields fuzzed, sometimes missing, sometimes extra keys (prototype pollution). */
export function jsonBody(schema: JsonSchema | undefined): fc.Arbitrary<string> {
  const base = schema ? objectOf({ ...schema, required: [] }, fieldValue) : fc.constant({});
  return fc
    .tuple(
      base,
      fc.constantFrom('', '"__proto__":{"admin":true,"role":"admin"}', '"constructor":{"prototype":{"admin":true}}', '"extra":1', '"organization_id":"00000000-0000-0000-0000-000000000000"'),
      fc.constantFrom('object', 'object', 'object', 'object', 'array', 'scalar', 'truncated', 'duplicate'),
    )
    .map(([obj, extra, shape]) => {
      const text = JSON.stringify(obj);
      const withExtra = extra ? (text === '{}' ? `{${extra}}` : `{${extra},${text.slice(1)}`) : text;
      switch (shape) {
        case 'array':
          return `[${withExtra}]`;
        case 'scalar':
          return JSON.stringify(Object.values(obj)[0] ?? 'x');
        case 'truncated':
          return withExtra.slice(0, Math.max(1, withExtra.length - 2));
        case 'duplicate':
          return withExtra === '{}' ? '{"a":1,"a":2}' : `${withExtra.slice(0, -1)},${withExtra.slice(1)}`;
        default:
          return withExtra;
      }
    });
}

/** A form body (OAuth endpoints): every field as text, sometimes repeated. */
export function formBody(schema: JsonSchema | undefined): fc.Arbitrary<string> {
  const props = Object.entries(schema?.properties ?? {});
  const grant = fc.constantFrom('refresh_token', 'client_credentials', 'authorization_code', 'password', '', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
  return fc
    .tuple(
      fc.array(fc.tuple(fc.constantFrom(...props.map(([k]) => k), 'token', 'token_type_hint', 'client_secret'), fc.oneof(grant, fc.string(), hostileString)), { maxLength: 6 }),
      fc.boolean(),
    )
    .map(([pairs, dup]) => {
      const params = new URLSearchParams();
      for (const [k, v] of pairs) params.append(k, v);
      if (dup && pairs[0]) params.append(pairs[0][0], 'again');
      return params.toString();
    });
}

/** A path parameter: a real id from the pool, an absent one, or something hostile (encoded, or raw when harmless). */
export function pathValue(param: Parameter, pool: Map<string, string[]>): fc.Arbitrary<string> {
  const real = pool.get(param.name) ?? [];
  return fc.oneof(
    { weight: real.length > 0 ? 4 : 0, arbitrary: real.length > 0 ? fc.constantFrom(...real) : fc.constant('x') },
    { weight: 2, arbitrary: fc.uuid().map((u) => u) },
    { weight: 3, arbitrary: fc.oneof(hostileString, fc.string({ maxLength: 80, unit: 'binary' }), boundaryValue(param.schema).map(String)).map(encodePathSegment) },
    { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '%2F', '%00', '%ZZ', '%', 'a%2Fb', '%C0%AE', ';', '*') },
  );
}

/** A query string for the operation's declared parameters, plus repeated and unknown ones. */
export function queryString(params: Parameter[]): fc.Arbitrary<string> {
  const query = params.filter((p) => p.in === 'query');
  const pairs = query.map((p) => fc.option(fc.tuple(fc.constant(p.name), fieldValue(p.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'x'))), { nil: undefined, freq: 2 }));
  return fc
    .tuple(fc.tuple(...pairs), fc.constantFrom('', 'repeat', 'unknown', 'proto', 'raw'))
    .map(([chosen, extra]) => {
      const search = new URLSearchParams();
      for (const pair of chosen) if (pair) search.append(pair[0], pair[1]);
      if (extra === 'repeat' && query[0]) search.append(query[0].name, '1');
      if (extra === 'unknown') search.append('redirect_uri', 'https://evil.example/');
      if (extra === 'proto') search.append('__proto__[admin]', 'true');
      const text = search.toString() + (extra === 'raw' ? '&%ZZ=%&a[=1&=' : '');
      return text ? `?${text}` : '';
    });
}

/** Extra headers a hostile client adds: odd media types, forwarded-for, origins, cookies. Printable ASCII only (fetch's rule). */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        'application/x-www-form-urlencoded',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/json;;;',
        'application/vnd.evil+json',
        '*/*',
      ),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', '::1', "'; drop table users --", '999.999.999.999', '1.1.1.1, 2.2.2.2, 127.0.0.1', 'unknown', 'x'.repeat(2000)),
      origin: fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'),
      'x-aim-client': fc.constantFrom('web', 'WEB ', 'cli'),
      cookie: fc.constantFrom('aim_rt=rt_x.y; aim_csrf=z', 'aim_rt=; aim_csrf=', '__proto__=1', 'a=' + 'b'.repeat(3000)),
      'x-csrf-token': fc.constantFrom('x', ''),
      accept: fc.constantFrom('text/html', 'application/xml', '*/*'),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0, *;q=0'),
    },
    { requiredKeys: [] },
  );

export function isPathParam(p: Parameter): boolean {
  return p.in === 'path';
}

/** The operation's path with each `{param}` filled in. */
export function fillPath(op: Operation, values: string[]): string {
  let i = 0;
  return op.template.replace(/\{[^}]+\}/g, () => values[i++] ?? 'x');
}

/** encodeURIComponent, with lone surrogates (which it refuses) sent as U+FFFD the way URLSearchParams does. */
function encodePathSegment(value: string): string {
  return encodeURIComponent(value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}
