import { Readable } from 'node:stream';
import { AUDIT_EVENTS } from '@aim/protocol';
import { Type } from 'typebox';
import { invalidRequest } from '../core/errors.js';
import { authed } from '../http/handler.js';
import { Timestamp } from '../http/schemas.js';
import type { AuditCheckpoints } from './checkpoints.js';
import type { AuditService } from './service.js';

const tags = ['audit'];

const Event = Type.Union(AUDIT_EVENTS.map((e) => Type.Literal(e)));
/** Ids are UUIDs or similar tokens; the pattern also keeps bytes PostgreSQL refuses in text (NUL) out of the query. */
const EntityId = (description: string) => Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:@-]+$', description });

const AuditEntryView = Type.Object({
  id: Type.String(),
  organization_id: Type.String(),
  seq: Type.Integer(),
  event: Type.String(),
  actor_type: Type.String(),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  subject_type: Type.Union([Type.String(), Type.Null()]),
  subject_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  data: Type.Unknown(),
  created_at: Timestamp,
  prev_hash: Type.String(),
  hash: Type.String(),
});

const ChainVerdictView = Type.Object({
  valid: Type.Boolean(),
  entries_checked: Type.Integer(),
  first_bad: Type.Optional(
    Type.Object({
      id: Type.String(),
      seq: Type.Integer(),
      problem: Type.Union([
        Type.Literal('hash_mismatch'),
        Type.Literal('broken_link'),
        Type.Literal('sequence_gap'),
        Type.Literal('checkpoint_mismatch'),
      ]),
    }),
  ),
  checkpoint: Type.Optional(
    Type.Object({
      seq: Type.Integer(),
      status: Type.Union([Type.Literal('matched'), Type.Literal('pruned'), Type.Literal('missing'), Type.Literal('mismatch')]),
    }),
  ),
});

const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' });

const CheckpointView = Type.Object({
  organization_id: Type.String(),
  seq: Type.Integer({ description: "the chain's last entry (0: empty chain)" }),
  hash: Hash,
  issued_at: Timestamp,
  checkpoint: Type.String({ description: 'compact JWS (EdDSA, kid in /.well-known/jwks.json, typ aim-audit-checkpoint+jwt) over {iss, sub, seq, hash, iat}' }),
});

/** Cursors are opaque to clients: the sequence number to continue below. */
const CURSOR = /^seq:([0-9]{1,15})$/;

function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidRequest('cursor is not one this server issued');
  return Number(match[1]);
}

export function auditHandlers(audit: AuditService, checkpoints: AuditCheckpoints) {
  return {
    list: authed(
      {
        summary: "Your organization's audit log, newest first",
        tags,
        querystring: Type.Object({
          actor: Type.Optional(EntityId('actor id: a user, API key or agent')),
          subject: Type.Optional(EntityId('subject id: what the entry is about (an agent, key, user, session…)')),
          event: Type.Optional(Event),
          since: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'entries created at or after, ms since the epoch' })),
          until: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'entries created before, ms since the epoch' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntryView), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
      async ({ principal, query }) => {
        const page = await audit.list(principal.organizationId, {
          actorId: query.actor,
          subjectId: query.subject,
          event: query.event,
          since: query.since,
          until: query.until,
          beforeSeq: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: query.limit ?? 50,
        });
        return { entries: page.entries, next_cursor: page.next === undefined ? null : encodeCursor(page.next) };
      },
    ),

    verify: authed(
      {
        summary: "Recompute your organization's hash chain and report the first entry that does not follow",
        description: 'With a checkpoint taken earlier, also proves the chain still holds it: not cut short, not rebuilt.',
        tags,
        querystring: Type.Object({
          checkpoint_seq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
          checkpoint_hash: Type.Optional(Hash),
        }),
        response: { 200: ChainVerdictView },
      },
      async ({ principal, query }) => {
        const { checkpoint_seq: seq, checkpoint_hash: hash } = query;
        if ((seq === undefined) !== (hash === undefined)) throw invalidRequest('checkpoint_seq and checkpoint_hash go together');
        return audit.verify(principal.organizationId, seq === undefined ? undefined : { seq, hash: hash! });
      },
    ),

    checkpoint: authed(
      {
        summary: "A signed statement of your organization's chain head, to keep outside AIM",
        tags,
        response: { 200: CheckpointView },
      },
      async ({ principal }) => checkpoints.issue(principal.organizationId),
    ),

    export: authed(
      {
        summary: 'Every entry of your organization in chain order, as JSON Lines after a header line with the anchor',
        tags,
        querystring: Type.Object({ format: Type.Optional(Type.Literal('jsonl', { default: 'jsonl' })) }),
        response: { 200: Type.String({ description: 'application/x-ndjson: a header line, then one entry per line' }) },
      },
      async ({ principal, reply }) => {
        void reply
          .type('application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="aim-audit-${principal.organizationId}.jsonl"`);
        return Readable.from(audit.exportJsonl(principal.organizationId));
      },
    ),
  };
}
