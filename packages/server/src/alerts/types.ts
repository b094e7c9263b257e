import type { AlertPrincipalType, AlertStatus, AlertType } from '@aim/protocol';
import type { OrgId } from '../core/ids.js';

export type { AlertPrincipalType, AlertStatus, AlertType };

/** Who or what an alert is about. */
export interface AlertPrincipal {
  type: AlertPrincipalType;
  id: string;
}

/** Who acknowledged or resolved an alert: the audit actor of the request. */
export interface AlertActor {
  type: string;
  id: string;
}

/** Facts that back an alert: ids, addresses, counts, times. Never secrets: no tokens, keys, passwords or codes. */
export type Evidence = Record<string, unknown>;

export interface Alert {
  id: string;
  organizationId: OrgId;
  type: AlertType;
  status: AlertStatus;
  principal: AlertPrincipal;
  /** The first occurrence's evidence. */
  evidence: Evidence;
  /** The most recent occurrence's evidence (the same as `evidence` until it repeats). */
  latestEvidence: Evidence;
  /** Occurrences grouped into this alert. */
  count: number;
  firstSeenAt: number;
  lastSeenAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: AlertActor | null;
  resolvedAt: number | null;
  resolvedBy: AlertActor | null;
}

/** What services hand to `AlertService.raise`. */
export interface RaiseAlertInput {
  organizationId: OrgId | string;
  type: AlertType;
  principal: AlertPrincipal;
  evidence: Evidence;
}

export interface RaisedAlert {
  alert: Alert;
  /** False when the occurrence was grouped into an alert that was already open or acknowledged. */
  created: boolean;
}
