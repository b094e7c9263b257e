import { Button, Code, Group, Paper, SegmentedControl, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { alerts } from '../api/endpoints.js';
import type { Alert, AlertStatus } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { PageHeader } from '../components/PageHeader.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatDateTime, fromNow, shortId } from '../lib/format.js';

const DESCRIPTIONS: Record<string, string> = {
  refresh_token_reused: 'A rotated refresh token was presented again; the whole session was revoked.',
  sdk_token_reused: 'A rotated SDK token was presented again; its family was revoked.',
  failed_logins: 'Many failed sign-ins for one account.',
  invalid_signatures: 'A burst of invalid signatures for one agent.',
  nonce_replays: 'Signed requests replayed with a used nonce.',
  api_key_rate_limited: 'An API key reached its rate limit.',
  key_expiring: 'An agent key or API key expires soon.',
};

/** Which alert a row is about, for the row's region and its buttons' names: "failed logins for user 1a2b3c4d…". */
function describeAlert(a: Alert): string {
  return `${a.type.replace(/_/g, ' ')} for ${a.principal.type.replace(/_/g, ' ')} ${shortId(a.principal.id)}`;
}

/**
 * Where the focus goes once an acted-on alert's button is gone (WCAG 2.4.3): its next action, else the alert itself
 * when it is still listed, else the alert that took its place (or the one before it), else the empty list's message.
 */
function focusAfterAction(list: HTMLElement, id: string, index: number): void {
  const rows = [...list.querySelectorAll<HTMLElement>('[data-alert-id]')];
  const same = rows.find((row) => row.dataset.alertId === id);
  const next = same ?? rows[Math.min(index, rows.length - 1)];
  const target = next ? (next.querySelector<HTMLElement>('button') ?? next) : list.querySelector<HTMLElement>('[data-testid="empty-state"]');
  target?.focus();
}

export function AlertsPage() {
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AlertStatus | ''>('open');
  const list = useQuery({ queryKey: ['alerts', status], queryFn: () => alerts.list({ status, limit: 100 }) });
  const listRef = useRef<HTMLDivElement>(null);
  const [refocus, setRefocus] = useState<{ id: string; index: number } | null>(null);
  const act = useMutation({
    mutationFn: ({ id, kind }: { id: string; kind: 'acknowledge' | 'resolve'; index: number }) => (kind === 'acknowledge' ? alerts.acknowledge(id) : alerts.resolve(id)),
    // Waits for the new list (the button stays busy meanwhile), so the focus is placed in what is shown next.
    onSuccess: async (_, { id, index }) => {
      await queryClient.invalidateQueries({ queryKey: ['alerts'] });
      setRefocus({ id, index });
    },
  });
  const manage = can('alerts:manage');

  // The clicked button is gone or disabled once the list refreshes; without this the focus falls to the page's start.
  useEffect(() => {
    if (!refocus || !listRef.current) return;
    focusAfterAction(listRef.current, refocus.id, refocus.index);
    setRefocus(null);
  }, [refocus]);

  return (
    <>
      <PageHeader title="Alerts" description="Security events grouped by who caused them. Acknowledge what you are looking at; resolve it when done." />
      <SegmentedControl
        mb="md"
        value={status}
        onChange={(v) => setStatus(v as AlertStatus | '')}
        aria-label="Alert status"
        data={[
          { value: 'open', label: 'Open' },
          { value: 'acknowledged', label: 'Acknowledged' },
          { value: 'resolved', label: 'Resolved' },
          { value: '', label: 'All' },
        ]}
      />
      <Stack ref={listRef}>
        <ErrorNotice error={list.error ?? act.error} />
        {list.isPending ? (
          <Skeleton h={160} />
        ) : list.data && list.data.alerts.length === 0 ? (
          <EmptyState title={status === 'open' ? 'No open alerts' : 'No alerts here'} focusable>
            Alerts are raised for refresh-token reuse, failed-login bursts, invalid signatures, nonce replays, rate-limited keys and expiring keys.
          </EmptyState>
        ) : (
          list.data?.alerts.map((a, index) => (
            <Paper key={a.id} component="section" aria-label={describeAlert(a)} data-alert-id={a.id} tabIndex={-1} withBorder radius="md" p="md">
              <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
                <Stack gap={4} style={{ flex: 1, minWidth: 240 }}>
                  <Group gap="xs">
                    <Title order={2} size="h5">{a.type.replace(/_/g, ' ')}</Title>
                    <StatusBadge status={a.status} />
                    <Text size="sm" c="dimmed">
                      ×{a.count}
                    </Text>
                  </Group>
                  <Text size="sm">{DESCRIPTIONS[a.type] ?? ''}</Text>
                  <Text size="xs" c="dimmed">
                    {a.principal.type.replace(/_/g, ' ')} {shortId(a.principal.id)} · first {formatDateTime(a.first_seen_at)} · last {fromNow(a.last_seen_at)}
                  </Text>
                  {/* It may scroll: focusable, so the keyboard can scroll it too (WCAG 2.1.1). */}
                  <Code block mt={4} style={{ maxHeight: 120, overflow: 'auto' }} tabIndex={0} aria-label="Latest evidence">
                    {JSON.stringify(a.latest_evidence, null, 2)}
                  </Code>
                </Stack>
                {manage && a.status !== 'resolved' && (
                  <Group gap="xs">
                    {a.status === 'open' && (
                      <Button size="xs" variant="light" loading={act.isPending && act.variables?.id === a.id && act.variables.kind === 'acknowledge'} onClick={() => act.mutate({ id: a.id, kind: 'acknowledge', index })} aria-label={`Acknowledge alert: ${describeAlert(a)}`}>
                        Acknowledge
                      </Button>
                    )}
                    <Button size="xs" variant="default" loading={act.isPending && act.variables?.id === a.id && act.variables.kind === 'resolve'} onClick={() => act.mutate({ id: a.id, kind: 'resolve', index })} aria-label={`Resolve alert: ${describeAlert(a)}`}>
                      Resolve
                    </Button>
                  </Group>
                )}
              </Group>
            </Paper>
          ))
        )}
      </Stack>
    </>
  );
}
