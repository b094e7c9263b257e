import { ALERT_PRINCIPAL_TYPES, ALERT_STATUSES, ALERT_TYPES } from '@aim/protocol';
import { Type } from 'typebox';
import { NullableTimestamp, Timestamp } from '../http/schemas.js';
import type { Alert } from './types.js';

const Actor = Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]);
const EvidenceSchema = Type.Object({}, { additionalProperties: true, description: 'ids, addresses, counts and times; never secrets' });

/** An alert as the API and the webhook show it. */
export const AlertView = Type.Object({
  id: Type.String(),
  organization_id: Type.String(),
  type: Type.Union(ALERT_TYPES.map((t) => Type.Literal(t))),
  status: Type.Union(ALERT_STATUSES.map((s) => Type.Literal(s))),
  principal: Type.Object({ type: Type.Union(ALERT_PRINCIPAL_TYPES.map((t) => Type.Literal(t))), id: Type.String() }),
  evidence: EvidenceSchema,
  latest_evidence: EvidenceSchema,
  count: Type.Integer({ description: 'occurrences grouped into this alert' }),
  first_seen_at: Timestamp,
  last_seen_at: Timestamp,
  acknowledged_at: NullableTimestamp,
  acknowledged_by: Actor,
  resolved_at: NullableTimestamp,
  resolved_by: Actor,
});

export function alertView(alert: Alert) {
  return {
    id: alert.id,
    organization_id: alert.organizationId,
    type: alert.type,
    status: alert.status,
    principal: alert.principal,
    evidence: alert.evidence,
    latest_evidence: alert.latestEvidence,
    count: alert.count,
    first_seen_at: alert.firstSeenAt,
    last_seen_at: alert.lastSeenAt,
    acknowledged_at: alert.acknowledgedAt,
    acknowledged_by: alert.acknowledgedBy,
    resolved_at: alert.resolvedAt,
    resolved_by: alert.resolvedBy,
  };
}
