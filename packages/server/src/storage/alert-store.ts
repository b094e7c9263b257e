import type { AlertStatus, AlertType } from '@aim/protocol';
import { sql, type Selectable } from 'kysely';
import type { AlertQuery, AlertStore } from '../alerts/store.js';
import type { Alert, AlertActor, AlertPrincipal, Evidence, RaisedAlert } from '../alerts/types.js';
import type { OrgId } from '../core/ids.js';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

type AlertRow = Selectable<Tables['alerts']>;

function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    organizationId: row.organization_id as OrgId,
    type: row.type as AlertType,
    status: row.status as AlertStatus,
    principal: { type: row.principal_type as AlertPrincipal['type'], id: row.principal_id },
    evidence: JSON.parse(row.evidence) as Evidence,
    latestEvidence: JSON.parse(row.latest_evidence) as Evidence,
    count: Number(row.occurrences),
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: parseActor(row.acknowledged_by),
    resolvedAt: row.resolved_at,
    resolvedBy: parseActor(row.resolved_by),
  };
}

const formatActor = (actor: AlertActor) => `${actor.type}:${actor.id}`;

function parseActor(value: string | null): AlertActor | null {
  if (value === null) return null;
  const at = value.indexOf(':');
  return { type: value.slice(0, at), id: value.slice(at + 1) };
}

/** The group an unresolved alert stands for. */
export function openKey(type: AlertType, principal: AlertPrincipal): string {
  return `${type}|${principal.type}:${principal.id}`;
}

export class KyselyAlertStore extends KyselyStore implements AlertStore {
  async raiseAlert(input: {
    id: string;
    organizationId: string;
    type: AlertType;
    principal: AlertPrincipal;
    evidence: Evidence;
    now: number;
  }): Promise<RaisedAlert> {
    const evidence = JSON.stringify(input.evidence);
    const row = await this.db
      .insertInto('alerts')
      .values({
        id: input.id,
        organization_id: input.organizationId,
        type: input.type,
        status: 'open',
        principal_type: input.principal.type,
        principal_id: input.principal.id,
        evidence,
        latest_evidence: evidence,
        occurrences: 1,
        first_seen_at: input.now,
        last_seen_at: input.now,
        open_key: openKey(input.type, input.principal),
        acknowledged_at: null,
        acknowledged_by: null,
        resolved_at: null,
        resolved_by: null,
        // A new alert is always announced; the claim below then paces announcements of its repeats.
        notified_at: input.now,
      })
      .onConflict((oc) =>
        oc.columns(['organization_id', 'open_key']).doUpdateSet({
          occurrences: sql<number>`alerts.occurrences + 1`,
          last_seen_at: input.now,
          latest_evidence: evidence,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return { alert: toAlert(row), created: row.id === input.id };
  }

  async find(organizationId: string, id: string): Promise<Alert | undefined> {
    const row = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toAlert(row);
  }

  async list(query: AlertQuery): Promise<Alert[]> {
    let q = this.db.selectFrom('alerts').selectAll().where('organization_id', '=', query.organizationId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.type !== undefined) q = q.where('type', '=', query.type);
    if (query.after) {
      const { firstSeenAt, id } = query.after;
      q = q.where((eb) => eb.or([eb('first_seen_at', '<', firstSeenAt), eb.and([eb('first_seen_at', '=', firstSeenAt), eb('id', '<', id)])]));
    }
    const rows = await q.orderBy('first_seen_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toAlert);
  }

  async acknowledgeAlert(organizationId: string, id: string, actor: AlertActor, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('alerts')
      .set({ status: 'acknowledged', acknowledged_at: now, acknowledged_by: formatActor(actor) })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async resolveAlert(organizationId: string, id: string, actor: AlertActor, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now, resolved_by: formatActor(actor), open_key: null })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('status', '!=', 'resolved')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async claimNotification(id: string, now: number, intervalMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('alerts')
      .set({ notified_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('notified_at', 'is', null), eb('notified_at', '<=', now - intervalMs)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
