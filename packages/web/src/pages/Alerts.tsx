import { Button, Code, Group, Paper, SegmentedControl, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { alerts } from '../api/endpoints.js';
import type { AlertStatus } from '../api/types.js';
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

export function AlertsPage() {
  const { can } = useAuth();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AlertStatus | ''>('open');
  const list = useQuery({ queryKey: ['alerts', status], queryFn: () => alerts.list({ status, limit: 100 }) });
  const act = useMutation({
    mutationFn: ({ id, kind }: { id: string; kind: 'acknowledge' | 'resolve' }) => (kind === 'acknowledge' ? alerts.acknowledge(id) : alerts.resolve(id)),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['alerts'] }),
  });
  const manage = can('alerts:manage');

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
      <Stack>
        <ErrorNotice error={list.error ?? act.error} />
        {list.isPending ? (
          <Skeleton h={160} />
        ) : list.data && list.data.alerts.length === 0 ? (
          <EmptyState title={status === 'open' ? 'No open alerts' : 'No alerts here'}>
            Alerts are raised for refresh-token reuse, failed-login bursts, invalid signatures, nonce replays, rate-limited keys and expiring keys.
          </EmptyState>
        ) : (
          list.data?.alerts.map((a) => (
            <Paper key={a.id} withBorder radius="md" p="md">
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
                      <Button size="xs" variant="light" loading={act.isPending && act.variables?.id === a.id && act.variables.kind === 'acknowledge'} onClick={() => act.mutate({ id: a.id, kind: 'acknowledge' })}>
                        Acknowledge
                      </Button>
                    )}
                    <Button size="xs" variant="default" loading={act.isPending && act.variables?.id === a.id && act.variables.kind === 'resolve'} onClick={() => act.mutate({ id: a.id, kind: 'resolve' })}>
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
