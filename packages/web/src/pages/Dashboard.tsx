import { Anchor, Card, Group, Paper, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { agents, alerts, apiKeys, verifications } from '../api/endpoints.js';
import { useAuth } from '../auth/AuthProvider.js';
import { BarChart } from '../components/BarChart.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { PageHeader } from '../components/PageHeader.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { daysUntil, formatDate, fromNow } from '../lib/format.js';

const CHART_DAYS = 14;

function Stat({ label, value, hint, to }: { label: string; value: number | string | undefined; hint?: string; to?: string }) {
  return (
    <Card withBorder radius="md" padding="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      {value === undefined ? <Skeleton h={32} mt={6} w={60} /> : <Text fz={30} fw={700} data-testid={`stat-${label.toLowerCase().replace(/\W+/g, '-')}`}>{value}</Text>}
      {hint && (
        <Text size="xs" c="dimmed">
          {to ? (
            <Anchor component={Link} to={to} size="xs">
              {hint}
            </Anchor>
          ) : (
            hint
          )}
        </Text>
      )}
    </Card>
  );
}

/** A panel of the few things that want a look, or the line in `empty` when there are none. */
function Shortlist({ title, empty, rows }: { title: string; empty: string; rows: ReactNode[] }) {
  return (
    <Paper withBorder radius="md" p="md">
      <Title order={2} size="h4" mb="sm">
        {title}
      </Title>
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          {empty}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={320}>
          <Table>
            <Table.Tbody>{rows}</Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}

/** One thing in a Shortlist: a link to where it is handled, what it is, and a dimmed when. */
function ShortlistRow({ to, label, detail, note }: { to: string; label: string; detail: string; note: string }) {
  return (
    <Table.Tr>
      <Table.Td>
        <Anchor component={Link} to={to} size="sm">
          {label}
        </Anchor>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{detail}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm" c="dimmed">
          {note}
        </Text>
      </Table.Td>
    </Table.Tr>
  );
}

export function DashboardPage() {
  const { can } = useAuth();
  const agentList = useQuery({ queryKey: ['agents', 'dashboard'], queryFn: () => agents.list({ limit: 200 }), enabled: can('agents:read') });
  const recent = useQuery({ queryKey: ['verifications', 'recent'], queryFn: () => verifications.list({ limit: 1 }), enabled: can('agents:read') });
  const perDay = useQuery({ queryKey: ['verifications', 'stats', CHART_DAYS], queryFn: () => verifications.stats(CHART_DAYS), enabled: can('agents:read') });
  const openAlerts = useQuery({
    queryKey: ['alerts', 'open'],
    queryFn: () => alerts.list({ status: 'open', limit: 100 }),
    enabled: can('audit:read') || can('alerts:manage'),
  });
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: () => apiKeys.list(), enabled: can('api_keys:manage') });

  const days = perDay.data?.days ?? [];
  const totals = days.reduce((acc, d) => [acc[0]! + d.allowed, acc[1]! + d.denied, acc[2]! + d.rejected], [0, 0, 0]);
  const decided = totals[0]! + totals[1]! + totals[2]!;
  const dueAgents = (agentList.data?.agents ?? []).filter((a) => a.rotation_due || (a.key_expires_at !== null && daysUntil(a.key_expires_at) <= 14));
  const dueKeys = (keys.data?.api_keys ?? []).filter((k) => k.expiring_soon);
  const active = agentList.data?.agents.filter((a) => a.status === 'active').length;

  return (
    <>
      <PageHeader title="Dashboard" description="What your agents did lately and what needs attention." />
      <Stack gap="lg">
        <ErrorNotice error={agentList.error ?? perDay.error ?? recent.error ?? openAlerts.error ?? keys.error} title="Some figures could not be loaded" />
        <SimpleGrid cols={{ base: 2, md: 4 }}>
          <Stat label="Agents" value={agentList.data?.total} hint={active !== undefined ? `${active} active` : undefined} to="/agents" />
          <Stat label="Allowed" value={perDay.isSuccess ? totals[0] : undefined} hint={`verifications, last ${CHART_DAYS} days`} />
          <Stat label="Denied" value={perDay.isSuccess ? (totals[1] ?? 0) + (totals[2] ?? 0) : undefined} hint="denied or rejected" />
          <Stat label="Open alerts" value={openAlerts.data?.alerts.length ?? (openAlerts.isEnabled ? undefined : '—')} hint="review alerts" to="/alerts" />
        </SimpleGrid>

        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">Verifications per day</Title>
            <Text size="xs" c="dimmed">
              {decided} decisions, last {CHART_DAYS} UTC days
            </Text>
          </Group>
          {perDay.isPending && perDay.isEnabled ? (
            <Skeleton h={180} />
          ) : decided === 0 ? (
            <Text c="dimmed" size="sm" py="xl" ta="center">
              No signed actions verified yet. Once an agent calls verify-action, its decisions show up here.
            </Text>
          ) : (
            <BarChart
              title="Verifications per day: allowed, denied and rejected"
              series={[
                { name: 'allowed', color: '#40c057' },
                { name: 'denied', color: '#fd7e14' },
                { name: 'rejected', color: '#fa5252' },
              ]}
              points={days.map((d) => ({ label: d.day.slice(5), values: [d.allowed, d.denied, d.rejected] }))}
            />
          )}
        </Paper>

        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Shortlist
            title="Open alerts"
            empty={openAlerts.isEnabled ? 'No open alerts. All quiet.' : 'Your role cannot see alerts.'}
            rows={(openAlerts.data?.alerts ?? []).slice(0, 5).map((a) => (
              <ShortlistRow key={a.id} to="/alerts" label={a.type.replace(/_/g, ' ')} detail={`×${a.count}`} note={fromNow(a.last_seen_at)} />
            ))}
          />
          <Shortlist
            title="Keys nearing rotation"
            empty="No agent key or API key expires in the next two weeks."
            rows={[
              ...dueAgents.map((a) => <ShortlistRow key={a.agent_id} to={`/agents/${a.agent_id}`} label={a.name} detail="agent key" note={`expires ${formatDate(a.key_expires_at)}`} />),
              ...dueKeys.map((k) => <ShortlistRow key={k.id} to="/api-keys" label={k.name} detail="API key" note={`expires ${formatDate(k.expires_at)}`} />),
            ]}
          />
        </SimpleGrid>
        {agentList.isSuccess && agentList.data.total === 0 && (
          <EmptyState title="No agents yet" action={<Anchor component={Link} to="/agents/new">Register your first agent</Anchor>}>
            Each agent holds its own Ed25519 key pair; AIM keeps the public key and verifies what the agent signs.
          </EmptyState>
        )}
        {recent.data && recent.data.verifications.length > 0 && (
          <Text size="xs" c="dimmed">
            Latest decision: <StatusBadge status={recent.data.verifications[0]!.decision} /> {fromNow(recent.data.verifications[0]!.created_at)}
          </Text>
        )}
      </Stack>
    </>
  );
}
