import { Type } from 'typebox';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { authed } from '../http/handler.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import { toPem } from '../signatures/ed25519.js';
import { NONCE_PATTERN } from '../signatures/messages.js';
import { CAPABILITY_MAX_LENGTH, CAPABILITY_PATTERN } from './capabilities.js';
import type { AgentService, KeyView } from './service.js';
import type { Agent } from './types.js';

const tags = ['agents'];

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$' });
const AgentType = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_]*$', description: '`mcp_server` for MCP servers' });
const Capabilities = Type.Array(
  Type.String({
    minLength: 1,
    maxLength: CAPABILITY_MAX_LENGTH,
    pattern: CAPABILITY_PATTERN,
    description: 'an action (`files:read`, `files:*`, `*`), optionally `@` a resource constraint: `files:read@/reports/*` (prefix) or `payments:send@acct-42` (exact)',
  }),
  { maxItems: 200 },
);
const PublicKey = Type.String({ minLength: 1, maxLength: 1024, description: 'raw 32-byte Ed25519 key in base64, or SPKI PEM' });
const Status = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked')]);

export const AgentView = Type.Object({
  agent_id: Type.String(),
  id: Type.String(),
  organization_id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  capabilities: Type.Array(Type.String()),
  status: Type.String(),
  public_key: Type.Union([Type.String(), Type.Null()]),
  key_id: Type.Union([Type.String(), Type.Null()]),
  key_expires_at: NullableTimestamp,
  rotation_due: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const KeyViewSchema = Type.Object({
  key_id: Type.String(),
  public_key: Type.String(),
  public_key_pem: Type.String(),
  status: Type.String(),
  created_at: Timestamp,
  expires_at: Timestamp,
  grace_until: NullableTimestamp,
  replaced_by: Type.Union([Type.String(), Type.Null()]),
  revoked_at: NullableTimestamp,
  rotation_due: Type.Boolean(),
});

export function agentView(agent: Agent, key: KeyView | undefined) {
  return {
    agent_id: agent.id,
    id: agent.id,
    organization_id: agent.organizationId,
    name: agent.name,
    type: agent.type,
    description: agent.description,
    capabilities: agent.capabilities,
    status: agent.status,
    public_key: key?.publicKey ?? null,
    key_id: key?.id ?? null,
    key_expires_at: key?.expiresAt ?? null,
    rotation_due: key?.rotationDue ?? false,
    created_at: agent.createdAt,
    updated_at: agent.updatedAt,
  };
}

export function keyView(key: KeyView) {
  return {
    key_id: key.id,
    public_key: key.publicKey,
    public_key_pem: toPem(key.publicKey),
    status: key.status,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    grace_until: key.graceUntil,
    replaced_by: key.replacedBy,
    revoked_at: key.revokedAt,
    rotation_due: key.rotationDue,
  };
}

const RegisterBody = Type.Object({
  name: Name,
  type: Type.Optional(AgentType),
  capabilities: Type.Optional(Capabilities),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  public_key: Type.Optional(PublicKey),
});

const Registered = Type.Object({
  agent_id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  capabilities: Type.Array(Type.String()),
  status: Type.String(),
  public_key: Type.String(),
  key_id: Type.String(),
  key_expires_at: Timestamp,
  created_at: Timestamp,
  private_key: Type.Optional(Type.String({ description: 'PKCS#8 PEM; only when the server generated the pair, only in this response' })),
});

export function agentHandlers(agents: AgentService) {
  const register = authed(
    {
      summary: 'Register an agent or MCP server; without public_key the server generates the pair and returns the private key once',
      tags,
      body: RegisterBody,
      response: { 201: Registered },
    },
    async ({ principal, body, reply }) => {
      const { agent, key, privateKeyPem } = await agents.register(principal, {
        name: body.name,
        type: body.type ?? 'agent',
        capabilities: body.capabilities ?? [],
        ...(body.description !== undefined && { description: body.description }),
        ...(body.public_key !== undefined && { publicKey: body.public_key }),
      });
      reply.code(201).header('cache-control', 'no-store');
      return {
        agent_id: agent.id,
        name: agent.name,
        type: agent.type,
        capabilities: agent.capabilities,
        status: agent.status,
        public_key: key.publicKey,
        key_id: key.id,
        key_expires_at: key.expiresAt,
        created_at: agent.createdAt,
        ...(privateKeyPem && { private_key: privateKeyPem }),
      };
    },
  );

  return {
    register,
    sdkRegister: register,

    list: authed(
      {
        summary: 'List agents, newest first',
        tags,
        querystring: Type.Object({
          status: Type.Optional(Status),
          type: Type.Optional(AgentType),
          q: Type.Optional(Type.String({ maxLength: 128 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: Type.Object({ agents: Type.Array(AgentView), total: Type.Integer(), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
      async ({ principal, query }) => {
        const limit = query.limit ?? 50;
        const after = decodeCursor(query.cursor);
        const { agents: page, total } = await agents.list(principal, {
          limit,
          ...(query.status && { status: query.status }),
          ...(query.type && { type: query.type }),
          ...(query.q && { search: query.q }),
          ...(after && { after }),
        });
        const last = page[page.length - 1]?.agent;
        return {
          agents: page.map(({ agent, currentKey }) => agentView(agent, currentKey)),
          total,
          next_cursor: page.length === limit && last ? encodeCursor(last) : null,
        };
      },
    ),

    get: authed({ summary: 'One agent', tags, params: IdParams, response: { 200: AgentView } }, async ({ principal, params }) => {
      const { agent, currentKey } = await agents.get(principal, params.id);
      return agentView(agent, currentKey);
    }),

    update: authed(
      {
        summary: "Change an agent's name, description or capabilities",
        tags,
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Name), description: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])), capabilities: Type.Optional(Capabilities) },
          { minProperties: 1 },
        ),
        response: { 200: AgentView },
      },
      async ({ principal, params, body }) => {
        await agents.update(principal, params.id, body);
        const { agent, currentKey } = await agents.get(principal, params.id);
        return agentView(agent, currentKey);
      },
    ),

    remove: authed(
      { summary: 'Revoke an agent for good: it and its keys stop at once; its evidence stays', tags, params: IdParams, response: { 200: AgentView } },
      async ({ principal, params }) => agentView(await agents.remove(principal, params.id), undefined),
    ),

    suspend: authed(
      { summary: 'Suspend an agent: its signatures are refused until reactivated', tags, params: IdParams, response: { 200: AgentView } },
      async ({ principal, params }) => {
        await agents.suspend(principal, params.id);
        const { agent, currentKey } = await agents.get(principal, params.id);
        return agentView(agent, currentKey);
      },
    ),

    reactivate: authed(
      { summary: 'Reactivate a suspended agent', tags, params: IdParams, response: { 200: AgentView } },
      async ({ principal, params }) => {
        await agents.reactivate(principal, params.id);
        const { agent, currentKey } = await agents.get(principal, params.id);
        return agentView(agent, currentKey);
      },
    ),

    keys: authed(
      { summary: "An agent's key history (active, grace, retired, revoked)", tags, params: IdParams, response: { 200: Type.Object({ keys: Type.Array(KeyViewSchema) }) } },
      async ({ principal, params }) => ({ keys: (await agents.keys(principal, params.id)).map(keyView) }),
    ),

    rotateKey: authed(
      {
        summary: 'Rotate to a new key, signed by the current key over rotate:{agent_id}:{public_key}:{timestamp}:{nonce}',
        tags,
        params: IdParams,
        body: Type.Object({
          public_key: PublicKey,
          timestamp: Type.Integer({ minimum: 0, maximum: 1e11 }),
          nonce: Type.String({ pattern: NONCE_PATTERN }),
          signature: Type.String({ maxLength: 200 }),
        }),
        response: { 200: Type.Object({ key: KeyViewSchema, previous: KeyViewSchema }) },
      },
      async ({ principal, params, body }) => {
        const { key, previous } = await agents.rotate(principal, params.id, {
          publicKey: body.public_key,
          timestamp: body.timestamp,
          nonce: body.nonce,
          signature: body.signature,
        });
        return { key: keyView(key), previous: keyView(previous) };
      },
    ),

    revokeKey: authed(
      {
        summary: 'Revoke one key at once',
        tags,
        params: Type.Object({ id: Type.String({ maxLength: 64 }), keyId: Type.String({ maxLength: 64 }) }),
        response: { 200: KeyViewSchema },
      },
      async ({ principal, params }) => keyView(await agents.revokeKey(principal, params.id, params.keyId)),
    ),

    replaceKey: authed(
      {
        summary: 'Set a new key as an admin (after a revocation or expiry); other live keys retire now',
        tags,
        params: IdParams,
        body: Type.Object({ public_key: PublicKey }),
        response: { 201: KeyViewSchema },
      },
      async ({ principal, params, body, reply }) => {
        reply.code(201);
        return keyView(await agents.replaceKey(principal, params.id, body.public_key));
      },
    ),
  };
}
