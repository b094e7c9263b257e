import { Type } from 'typebox';
import { ACTION_PATTERN, RESOURCE_PATTERN } from '../agents/capabilities.js';
import { decodeCursor, nextCursor } from '../http/cursor.js';
import { authed } from '../http/handler.js';
import { IdParams, NullableTimestamp, Timestamp } from '../http/schemas.js';
import { NONCE_PATTERN } from './messages.js';
import type { ActionVerifier } from './service.js';
import type { Verification } from './types.js';

const tags = ['signatures'];
const REASON_DOC =
  'capability_granted (allowed); capability_missing (no capability covers the action) or resource_not_allowed ' +
  '(the action is granted, but not on this resource); for a rejected decision, its error code';

const VerificationView = Type.Object({
  id: Type.String(),
  agent_id: Type.String(),
  key_id: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resource: Type.String(),
  timestamp: Type.Integer(),
  nonce: Type.String(),
  message: Type.String({ description: 'the exact signed text, UTF-8' }),
  signature: Type.String({ description: 'base64, as presented' }),
  decision: Type.String({ description: 'allowed, denied or rejected' }),
  allowed: Type.Boolean(),
  reason: Type.String({ description: REASON_DOC }),
  caller: Type.Object({ type: Type.String(), id: Type.String() }),
  ip: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});

function verificationView(v: Verification) {
  return {
    id: v.id,
    agent_id: v.agentId,
    key_id: v.keyId,
    action: v.action,
    resource: v.resource,
    timestamp: v.timestamp,
    nonce: v.nonce,
    message: v.message,
    signature: v.signature,
    decision: v.decision,
    allowed: v.decision === 'allowed',
    reason: v.reason,
    caller: v.caller,
    ip: v.ip,
    created_at: v.createdAt,
  };
}

const ListQuery = Type.Object({
  decision: Type.Optional(Type.Union([Type.Literal('allowed'), Type.Literal('denied'), Type.Literal('rejected')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
const ListResponse = Type.Object({ verifications: Type.Array(VerificationView), next_cursor: Type.Union([Type.String(), Type.Null()]) });

export function signatureHandlers(verifier: ActionVerifier) {
  const list = async (principal: Parameters<ActionVerifier['list']>[0], query: { decision?: string; limit?: number; cursor?: string }, agentId?: string) => {
    const limit = query.limit ?? 50;
    const after = decodeCursor(query.cursor);
    const page = await verifier.list(principal, {
      limit,
      ...(agentId !== undefined && { agentId }),
      ...(query.decision && { decision: query.decision }),
      ...(after && { after }),
    });
    return { verifications: page.map(verificationView), next_cursor: nextCursor(page, limit) };
  };

  return {
    verifyAction: authed(
      {
        summary: 'Verify an action signed by an agent: Ed25519 over {agent_id}:{action}:{resource}:{timestamp}:{nonce}',
        tags,
        params: IdParams,
        body: Type.Object({
          action: Type.String({ minLength: 1, maxLength: 256, pattern: ACTION_PATTERN }),
          resource: Type.String({ minLength: 1, maxLength: 2048, pattern: RESOURCE_PATTERN }),
          signature: Type.String({ maxLength: 200 }),
          timestamp: Type.Integer({ minimum: 0, maximum: 1e11, description: 'Unix seconds' }),
          nonce: Type.String({ pattern: NONCE_PATTERN }),
        }),
        response: {
          200: Type.Object({
            verified: Type.Literal(true),
            allowed: Type.Boolean(),
            reason: Type.String({ description: REASON_DOC }),
            verification_id: Type.String(),
            key_id: Type.String(),
            agent_id: Type.String(),
            action: Type.String(),
            resource: Type.String(),
            key_expires_at: Timestamp,
            rotation_due: Type.Boolean(),
          }),
        },
      },
      async ({ principal, params, body, ip, reply }) => {
        const result = await verifier.verify(principal, params.id, body, ip);
        if (result.rotationDue) reply.header('aim-key-rotation', 'due');
        return {
          verified: true as const,
          allowed: result.allowed,
          reason: result.verification.reason,
          verification_id: result.verification.id,
          key_id: result.key.id,
          agent_id: result.verification.agentId,
          action: result.verification.action,
          resource: result.verification.resource,
          key_expires_at: result.key.expiresAt,
          rotation_due: result.rotationDue,
        };
      },
    ),

    get: authed(
      { summary: 'The evidence of one decision, re-checkable offline with the public key', tags, params: IdParams, response: { 200: VerificationView } },
      async ({ principal, params }) => verificationView(await verifier.get(principal, params.id)),
    ),

    listForAgent: authed(
      { summary: "An agent's decisions, newest first", tags, params: IdParams, querystring: ListQuery, response: { 200: ListResponse } },
      async ({ principal, params, query }) => list(principal, query, params.id),
    ),

    list: authed(
      { summary: "Your organization's decisions, newest first", tags, querystring: ListQuery, response: { 200: ListResponse } },
      async ({ principal, query }) => list(principal, query),
    ),

    stats: authed(
      {
        summary: "Your organization's decisions per UTC day, counted by the server (the dashboard's chart)",
        tags,
        querystring: Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 14 })) }),
        response: {
          200: Type.Object({
            days: Type.Array(
              Type.Object({
                day: Type.String({ description: 'YYYY-MM-DD, UTC' }),
                allowed: Type.Integer(),
                denied: Type.Integer(),
                rejected: Type.Integer(),
              }),
            ),
          }),
        },
      },
      async ({ principal, query }) => ({ days: await verifier.stats(principal, query.days ?? 14) }),
    ),
  };
}

