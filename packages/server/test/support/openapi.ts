import assert from 'node:assert/strict';
import { ERROR_STATUS, isErrorCode } from '@aim/protocol';
import type { HttpClient, HttpResult } from './http.js';

/** A JSON Schema as the OpenAPI document carries it (the subset AIM's TypeBox schemas produce). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  additionalProperties?: boolean | JsonSchema;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
}

export type Credential = 'bearer' | 'apiKey' | 'sessionCookie';

/** One operation of the OpenAPI document, with what a client needs to call it. */
export interface Operation {
  method: string;
  /** The templated path, e.g. `/api/v1/agents/{id}`. */
  template: string;
  /** The path with every parameter replaced by a well-formed id that matches nothing. */
  path: string;
  parameters: Parameter[];
  secured: boolean;
  credentials: Credential[];
  hasBody: boolean;
  form: boolean;
  body: JsonSchema | undefined;
  /** Documented answer statuses (e.g. 200, 201, 503). */
  responses: number[];
}

export const ABSENT_ID = '6b0f2c1e-8d3a-4f5b-9c7d-1e2f3a4b5c6d';

interface OpenApiOperation {
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

/** Every operation in the served OpenAPI document: routes added later are covered without touching the tests. */
export async function operations(http: HttpClient): Promise<Operation[]> {
  const res = await http.get<{ paths: Record<string, Record<string, OpenApiOperation>> }>('/api/v1/openapi.json');
  assert.equal(res.status, 200, 'the OpenAPI document is served');
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(res.body.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const security = op.security ?? [];
      const content = op.requestBody?.content ?? {};
      const mediaType = Object.keys(content)[0];
      ops.push({
        method: method.toUpperCase(),
        template,
        path: template.replace(/\{[^}]+\}/g, ABSENT_ID),
        parameters: op.parameters ?? [],
        secured: security.length > 0,
        credentials: security.flatMap((s) => Object.keys(s) as Credential[]),
        hasBody: mediaType !== undefined,
        form: mediaType === 'application/x-www-form-urlencoded',
        body: mediaType ? content[mediaType]?.schema : undefined,
        responses: Object.keys(op.responses ?? {}).map(Number),
      });
    }
  }
  return ops;
}

/** The answer is a catalogued error: 4xx, a known code, a description, and the catalogue's status. */
export function assertCatalogued(res: HttpResult, label: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${label}: expected 4xx, got ${res.status} ${res.text.slice(0, 200)}`);
  assert.ok(isErrorCode(res.body?.error), `${label}: error code ${String(res.body?.error)} is not catalogued (${res.text.slice(0, 200)})`);
  assert.equal(typeof res.body.error_description, 'string', `${label}: error_description`);
  assert.equal(ERROR_STATUS[res.body.error as keyof typeof ERROR_STATUS], res.status, `${label}: status matches the catalogue`);
}

/**
 * The fuzzing property for one answer: a documented success with a JSON body (NDJSON for exports), or a catalogued
 * error. Never a 500, never HTML or an empty body.
 */
export function assertDocumentedAnswer(op: Operation, res: HttpResult, label: string): void {
  assert.notEqual(res.status, 500, `${label}: 500 ${res.text.slice(0, 300)}`);
  if (res.status >= 200 && res.status < 300) {
    assert.ok(op.responses.includes(res.status), `${label}: undocumented success status ${res.status}`);
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('application/x-ndjson')) {
      for (const line of res.text.split('\n').filter(Boolean)) JSON.parse(line);
    } else {
      assert.match(type, /^application\/json/, `${label}: success content-type ${type}`);
      assert.ok(res.body !== undefined && typeof res.body === 'object', `${label}: success body is JSON`);
    }
    return;
  }
  if (op.responses.includes(res.status) && res.status >= 500) return; // e.g. /health/ready's documented 503
  assertCatalogued(res, label);
}
