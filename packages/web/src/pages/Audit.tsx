import { Badge, Button, Code, Group, Select, Skeleton, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { AUDIT_EVENTS } from '@aim/protocol';
import { audit } from '../api/endpoints.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { ListTable } from '../components/ListTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { downloadFile } from '../lib/download.js';
import { formatDateTime, shortId } from '../lib/format.js';

/** `YYYY-MM-DD` from a date input, as the first (or last) millisecond of that local day. */
function dayBound(value: string, end: boolean): number | undefined {
  if (!value) return undefined;
  const date = new Date(`${value}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  return end ? date.getTime() + 86_400_000 - 1 : date.getTime();
}

function ChainStatus() {
  const chain = useQuery({ queryKey: ['audit', 'verify'], queryFn: () => audit.verify() });
  if (chain.isPending) return <Badge variant="light" color="gray">checking chain…</Badge>;
  if (chain.error) return <Badge color="gray">chain status unavailable</Badge>;
  const { valid, entries_checked, first_bad } = chain.data;
  return (
    <Tooltip label={valid ? 'Every entry hashes to the next: nothing was edited or deleted.' : `First bad entry: #${first_bad?.seq ?? '?'} (${first_bad?.problem ?? 'unknown'})`}>
      <Badge color={valid ? 'green' : 'red'} variant="light" size="lg" data-testid="chain-status">
        {valid ? `Chain intact · ${entries_checked} entries` : `Chain broken at #${first_bad?.seq ?? '?'}`}
      </Badge>
    </Tooltip>
  );
}

export function AuditPage() {
  const [event, setEvent] = useState<string | null>(null);
  const [actor, setActor] = useState('');
  // An agent's page links here with ?subject=<agent id>: everything that happened to it.
  const [subject, setSubject] = useState(() => new URLSearchParams(window.location.search).get('subject') ?? '');
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const filters = {
    event: event ?? undefined,
    actor: actor.trim() || undefined,
    subject: subject.trim() || undefined,
    since: dayBound(since, false),
    until: dayBound(until, true),
  };

  const entries = useInfiniteQuery({
    queryKey: ['audit', filters],
    queryFn: ({ pageParam }) => audit.list({ ...filters, limit: 50, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const exporter = useMutation({
    mutationFn: async () => downloadFile(`aim-audit-${new Date().toISOString().slice(0, 10)}.jsonl`, await audit.export()),
  });
  // The signed head, as a file to keep outside AIM; `aim audit verify --checkpoint seq:hash` checks a later export.
  const checkpointer = useMutation({
    mutationFn: async () => {
      const checkpoint = await audit.checkpoint();
      downloadFile(`aim-audit-checkpoint-${checkpoint.seq}.json`, `${JSON.stringify(checkpoint, null, 2)}\n`, 'application/json');
    },
  });
  const rows = entries.data?.pages.flatMap((p) => p.entries) ?? [];
  const filtered = Object.values(filters).some((v) => v !== undefined);

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Append-only and hash-chained: any edit or deletion is detected."
        actions={
          <>
            <ChainStatus />
            <Button variant="default" loading={exporter.isPending} onClick={() => exporter.mutate()}>
              Export JSONL
            </Button>
            <Tooltip label="A signed statement of the chain's head. Keep it outside AIM: later verifications prove the log was not cut short or rebuilt.">
              <Button variant="default" loading={checkpointer.isPending} onClick={() => checkpointer.mutate()}>
                Save checkpoint
              </Button>
            </Tooltip>
          </>
        }
      />
      <Stack>
        <Group gap="sm" align="flex-end">
          <Select label="Event" placeholder="Any event" data={[...AUDIT_EVENTS]} value={event} onChange={setEvent} searchable clearable w={240} />
          <TextInput label="Actor id" placeholder="user, key or agent id" value={actor} onChange={(e) => setActor(e.currentTarget.value)} w={240} />
          <TextInput label="Subject id" placeholder="agent, key or user it is about" value={subject} onChange={(e) => setSubject(e.currentTarget.value)} w={240} />
          <TextInput label="From" type="date" value={since} onChange={(e) => setSince(e.currentTarget.value)} w={160} />
          <TextInput label="To" type="date" value={until} onChange={(e) => setUntil(e.currentTarget.value)} w={160} />
        </Group>
        <ErrorNotice error={entries.error ?? exporter.error ?? checkpointer.error} />
        {entries.isPending ? (
          <Skeleton h={240} />
        ) : rows.length === 0 ? (
          <EmptyState title={filtered ? 'No entries match these filters' : 'The audit log is empty'}>
            {filtered ? 'Clear a filter or widen the dates.' : 'Sign-ins, key changes and agent decisions are recorded here as they happen.'}
          </EmptyState>
        ) : (
          <ListTable
            minWidth={760}
            verticalSpacing="xs"
            highlightOnHover
            head={
              <>
                <Table.Th visibleFrom="sm">#</Table.Th>
                <Table.Th>When</Table.Th>
                <Table.Th>Event</Table.Th>
                <Table.Th visibleFrom="sm">Actor</Table.Th>
                <Table.Th visibleFrom="sm">Subject</Table.Th>
                <Table.Th visibleFrom="sm">Address</Table.Th>
                <Table.Th />
              </>
            }
          >
            {rows.map((e) => (
              <Fragment key={e.id}>
                <Table.Tr>
                  <Table.Td visibleFrom="sm">{e.seq}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDateTime(e.created_at)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Code>{e.event}</Code>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">
                    <Text size="sm">
                      {e.actor_type}
                      {e.actor_id ? ` ${shortId(e.actor_id)}` : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">
                    <Text size="sm">{e.subject_type ? `${e.subject_type} ${shortId(e.subject_id ?? '')}` : '—'}</Text>
                  </Table.Td>
                  <Table.Td visibleFrom="sm">
                    <Text size="sm">{e.ip ?? '—'}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      onClick={() => setOpen(open === e.id ? null : e.id)}
                      aria-expanded={open === e.id}
                      aria-label={`${open === e.id ? 'Hide details' : 'Details'} of entry ${e.seq}: ${e.event}`}
                    >
                      {open === e.id ? 'Hide' : 'Details'}
                    </Button>
                  </Table.Td>
                </Table.Tr>
                {open === e.id && (
                  <Table.Tr>
                    <Table.Td colSpan={7}>
                      <Code block>{JSON.stringify({ data: e.data, actor_id: e.actor_id, subject_id: e.subject_id, prev_hash: e.prev_hash, hash: e.hash }, null, 2)}</Code>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            ))}
          </ListTable>
        )}
        {entries.hasNextPage && (
          <Group justify="center">
            <Button variant="default" loading={entries.isFetchingNextPage} onClick={() => void entries.fetchNextPage()}>
              Load older entries
            </Button>
          </Group>
        )}
      </Stack>
    </>
  );
}
