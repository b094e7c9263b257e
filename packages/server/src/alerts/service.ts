import { isAlertType, type AlertStatus, type AlertType } from '@aim/protocol';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import { MINUTE, type Clock } from '../core/clock.js';
import { AimError, notFound } from '../core/errors.js';
import { isUuid, type OrgId } from '../core/ids.js';
import type { Random } from '../core/random.js';
import type { StoreHub } from '../storage/stores.js';
import type { Alert, AlertActor, Evidence, RaiseAlertInput, RaisedAlert } from './types.js';

/** Sends alerts somewhere outside AIM (the webhook). Must return at once: delivery happens in the background. */
export interface AlertNotifier {
  send(event: 'alert.raised' | 'alert.updated', alert: Alert): void;
}

/** A repeat of an alert is announced at most this often. */
export const UPDATE_NOTIFICATION_INTERVAL = MINUTE;

/** Evidence is capped: an alert row must stay small however much a caller hands in. */
const EVIDENCE_MAX_CHARS = 4096;
/** Field names that hold secrets are dropped from evidence, whoever passes them (as in the log redaction). */
const SECRET_FIELDS = new Set([
  'password',
  'new_password',
  'current_password',
  'token',
  'access_token',
  'refresh_token',
  'secret',
  'key',
  'api_key',
  'private_key',
  'client_assertion',
  'signature_key',
  'totp_code',
  'code',
  'recovery_codes',
]);

export interface AlertPage {
  alerts: Alert[];
  nextCursor: string | null;
}

/**
 * Suspicious-activity alerts. Services report what they saw with `raise()` (or `report()`, which never throws);
 * repeats of one type for one principal are grouped into the unresolved alert; people acknowledge and resolve them.
 */
export class AlertService {
  private notifier: AlertNotifier | undefined;

  constructor(
    private readonly hub: StoreHub,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly logger: Logger,
  ) {}

  useNotifier(notifier: AlertNotifier): void {
    this.notifier = notifier;
  }

  /**
   * Records an occurrence: opens an alert, or adds it to the open (or acknowledged) alert of the same type and
   * principal. Safe to call concurrently from every node: one row per group.
   *
   * @example
   * await alerts.raise({ organizationId, type: 'invalid_signatures', principal: { type: 'agent', id: agentId },
   *   evidence: { failures: 20, window_seconds: 60, last_ip: ip } });
   */
  async raise(input: RaiseAlertInput): Promise<RaisedAlert> {
    if (!isAlertType(input.type)) throw new Error(`unknown alert type ${String(input.type)}`);
    const now = this.clock.now();
    const raised = await this.hub.alerts.raiseAlert({
      id: this.random.uuid(),
      organizationId: input.organizationId,
      type: input.type,
      principal: input.principal,
      evidence: cleanEvidence(input.evidence),
      now,
    });
    const { alert, created } = raised;
    const fields = { alertId: alert.id, type: alert.type, principal: alert.principal, count: alert.count };
    if (created) this.logger.warn(fields, 'alert raised');
    else this.logger.info(fields, 'alert repeated');
    if (this.notifier) {
      if (created) this.notifier.send('alert.raised', alert);
      else if (await this.hub.alerts.claimNotification(alert.id, now, UPDATE_NOTIFICATION_INTERVAL)) this.notifier.send('alert.updated', alert);
    }
    return raised;
  }

  /** `raise()` for callers on a request path that must not fail because of an alert: errors are logged. */
  async report(input: RaiseAlertInput): Promise<void> {
    try {
      await this.raise(input);
    } catch (error) {
      this.logger.error({ err: error, type: input.type }, 'could not raise an alert');
    }
  }

  async list(organizationId: OrgId, query: { status?: AlertStatus; type?: AlertType; limit: number; cursor?: string }): Promise<AlertPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.hub.alerts.list({
      organizationId,
      ...(query.status && { status: query.status }),
      ...(query.type && { type: query.type }),
      ...(after && { after }),
      limit: query.limit + 1,
    });
    const alerts = rows.slice(0, query.limit);
    const last = alerts[alerts.length - 1];
    return { alerts, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  /** Marks an open alert as being looked at; acknowledging it again changes nothing; a resolved one cannot be. */
  acknowledge(organizationId: OrgId, id: string, actor: AlertActor, ip: string | null): Promise<Alert> {
    return this.transition(organizationId, id, actor, ip, 'acknowledged');
  }

  /** Closes an alert; the next occurrence of its type for its principal opens a new one. Resolving twice changes nothing. */
  resolve(organizationId: OrgId, id: string, actor: AlertActor, ip: string | null): Promise<Alert> {
    return this.transition(organizationId, id, actor, ip, 'resolved');
  }

  private async transition(organizationId: OrgId, id: string, actor: AlertActor, ip: string | null, to: 'acknowledged' | 'resolved'): Promise<Alert> {
    if (!isUuid(id)) throw notFound('alert');
    const now = this.clock.now();
    const alert = await this.hub.transaction(async (s) => {
      const moved =
        to === 'acknowledged' ? await s.alerts.acknowledgeAlert(organizationId, id, actor, now) : await s.alerts.resolveAlert(organizationId, id, actor, now);
      const current = await s.alerts.find(organizationId, id);
      if (!current) throw notFound('alert');
      if (moved) {
        await this.audit.withStore(s.audit).record({
          organizationId,
          event: to === 'acknowledged' ? 'alert.acknowledged' : 'alert.resolved',
          actor: { type: actor.type as 'user' | 'api_key' | 'agent', id: actor.id },
          subject: { type: 'alert', id },
          ip,
          data: { type: current.type, principal: current.principal, count: current.count },
        });
      }
      return current;
    });
    if (to === 'acknowledged' && alert.status === 'resolved') throw new AimError('conflict', 'the alert is already resolved');
    return alert;
  }
}

/** Drops secret-named fields (at any depth) and caps the size. */
export function cleanEvidence(evidence: Evidence): Evidence {
  const clean = (value: unknown, depth: number): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (depth > 4) return '[nested too deep]';
    if (Array.isArray(value)) return value.slice(0, 50).map((v) => clean(v, depth + 1));
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !SECRET_FIELDS.has(k.toLowerCase()))
        .map(([k, v]) => [k, clean(v, depth + 1)]),
    );
  };
  const cleaned = clean(evidence, 0) as Evidence;
  const text = JSON.stringify(cleaned) ?? '{}';
  return text.length <= EVIDENCE_MAX_CHARS ? cleaned : { truncated: true, preview: text.slice(0, 1000) };
}

/** Cursors are opaque to clients: the position of the last alert of a page. */
function encodeCursor(alert: Alert): string {
  return Buffer.from(`${alert.firstSeenAt}:${alert.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { firstSeenAt: number; id: string } {
  const [time, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const firstSeenAt = Number(time);
  if (rest.length > 0 || !id || !isUuid(id) || !Number.isSafeInteger(firstSeenAt)) throw new AimError('invalid_request', 'cursor is not valid');
  return { firstSeenAt, id };
}
