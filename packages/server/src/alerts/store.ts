import type { AlertStatus, AlertType } from '@aim/protocol';
import type { Alert, AlertActor, AlertPrincipal, Evidence, RaisedAlert } from './types.js';

export interface AlertQuery {
  organizationId: string;
  status?: AlertStatus;
  type?: AlertType;
  /** Alerts strictly after this position in the listing order (newest first). */
  after?: { firstSeenAt: number; id: string };
  limit: number;
}

export interface AlertStore {
  /**
   * Opens an alert, or adds an occurrence to the unresolved alert of the same type and principal: one upsert on a
   * unique index, so concurrent raises on any number of nodes make exactly one row whose count is their number.
   */
  raiseAlert(input: {
    id: string;
    organizationId: string;
    type: AlertType;
    principal: AlertPrincipal;
    evidence: Evidence;
    now: number;
  }): Promise<RaisedAlert>;
  find(organizationId: string, id: string): Promise<Alert | undefined>;
  /** Newest first (by first occurrence), then by id. */
  list(query: AlertQuery): Promise<Alert[]>;
  /** Moves an `open` alert to `acknowledged`; answers whether this call moved it. */
  acknowledgeAlert(organizationId: string, id: string, actor: AlertActor, now: number): Promise<boolean>;
  /** Moves an unresolved alert to `resolved` and closes its group; answers whether this call moved it. */
  resolveAlert(organizationId: string, id: string, actor: AlertActor, now: number): Promise<boolean>;
  /**
   * Claims the right to send a webhook about an alert: succeeds for exactly one caller, and only when none was sent
   * for it in the last `intervalMs` (a compare-and-swap on `notified_at`).
   */
  claimNotification(id: string, now: number, intervalMs: number): Promise<boolean>;
}
