import { ALERT_STATUSES, ALERT_TYPES, type AlertStatus, type AlertType } from '@aim/protocol';
import { Type } from 'typebox';
import { authed } from '../http/handler.js';
import { Cursor, IdParams } from '../http/schemas.js';
import type { AlertService } from './service.js';
import { AlertView, alertView } from './view.js';

const tags = ['alerts'];

const ListQuery = Type.Object({
  status: Type.Optional(Type.Union(ALERT_STATUSES.map((s) => Type.Literal(s)))),
  type: Type.Optional(Type.Union(ALERT_TYPES.map((t) => Type.Literal(t)))),
  ...Cursor.properties,
});

export function alertHandlers(alerts: AlertService) {
  return {
    list: authed(
      {
        summary: "List your organization's alerts, newest first (filters: status, type; paged with cursor)",
        tags,
        querystring: ListQuery,
        response: { 200: Type.Object({ alerts: Type.Array(AlertView), next_cursor: Type.Union([Type.String(), Type.Null()]) }) },
      },
      async ({ principal, query }) => {
        const page = await alerts.list(principal.organizationId, {
          ...(query.status !== undefined && { status: query.status as AlertStatus }),
          ...(query.type !== undefined && { type: query.type as AlertType }),
          limit: query.limit ?? 50,
          ...(query.cursor !== undefined && { cursor: query.cursor }),
        });
        return { alerts: page.alerts.map(alertView), next_cursor: page.nextCursor };
      },
    ),

    acknowledge: authed(
      { summary: 'Acknowledge an alert: someone is looking into it', tags, params: IdParams, response: { 200: AlertView } },
      async ({ principal, params, ip }) => alertView(await alerts.acknowledge(principal.organizationId, params.id, principal.actor, ip)),
    ),

    resolve: authed(
      { summary: 'Resolve an alert; a later occurrence opens a new one', tags, params: IdParams, response: { 200: AlertView } },
      async ({ principal, params, ip }) => alertView(await alerts.resolve(principal.organizationId, params.id, principal.actor, ip)),
    ),
  };
}
