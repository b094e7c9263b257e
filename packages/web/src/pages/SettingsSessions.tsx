import { Badge, Button, Group, Paper, Skeleton, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { auth } from '../api/endpoints.js';
import type { SignedInSession } from '../api/types.js';
import { ConfirmModal } from '../components/ConfirmModal.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { formatDateTime, fromNow } from '../lib/format.js';
import { describeUserAgent } from '../lib/user-agent.js';
import { useConfirmedRevoke } from '../lib/useConfirmedRevoke.js';
import { useNarrow } from '../lib/useNarrow.js';

/** Where you are signed in (web UI and CLI logins), with a way to sign any other one out. */
export function SessionsSection() {
  const narrow = useNarrow();
  const list = useQuery({ queryKey: ['sessions'], queryFn: () => auth.sessions() });
  // 'all' here means every other session: the current one is never revoked by it.
  const { pending, ask, modal } = useConfirmedRevoke<SignedInSession>(['sessions'], {
    one: (s) => auth.revokeSession(s.id),
    all: () => auth.revokeOtherSessions(),
  });
  const sessions = list.data?.sessions ?? [];
  const others = sessions.filter((s) => !s.current).length;
  const label = (s: SignedInSession) => `${describeUserAgent(s.user_agent)}${s.last_ip ? ` (${s.last_ip})` : ''}`;

  return (
    <Paper withBorder radius="md" p="lg">
      <Title order={2} size="h4" mb="sm">
        Sessions
      </Title>
      <Stack>
        <Text size="sm">Where you are signed in: this browser, other browsers and command-line logins. Sign out any you do not recognise.</Text>
        <ErrorNotice error={list.error} title="Could not load your sessions" />
        {list.isPending ? (
          <Skeleton h={96} />
        ) : (
          list.data && (
            <Table.ScrollContainer minWidth={narrow ? 0 : 640}>
              <Table verticalSpacing="sm" aria-label="Your sessions">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Device</Table.Th>
                    <Table.Th visibleFrom="sm">Address</Table.Th>
                    <Table.Th visibleFrom="sm">Signed in</Table.Th>
                    <Table.Th visibleFrom="sm">Last used</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {sessions.map((s) => (
                    <Table.Tr key={s.id} data-testid="session-row" data-current={s.current || undefined}>
                      <Table.Td>
                        <Group gap={6} wrap="wrap">
                          <Text size="sm" fw={500} title={s.user_agent ?? undefined}>
                            {describeUserAgent(s.user_agent)}
                          </Text>
                          {s.current && (
                            <Badge color="green" variant="light" radius="sm">
                              This session
                            </Badge>
                          )}
                        </Group>
                        {narrow && (
                          <Text size="xs" c="dimmed">
                            {s.last_ip ?? 'unknown address'} · used {fromNow(s.last_used_at)}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td visibleFrom="sm">{s.last_ip ?? '—'}</Table.Td>
                      <Table.Td visibleFrom="sm">{formatDateTime(s.created_at)}</Table.Td>
                      <Table.Td visibleFrom="sm">{fromNow(s.last_used_at)}</Table.Td>
                      <Table.Td ta="right">
                        {!s.current && (
                          <Button size="compact-sm" color="red" variant="subtle" onClick={() => ask(s)} aria-label={`Sign out ${label(s)}`}>
                            Sign out
                          </Button>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )
        )}
        {others > 0 && (
          <Group justify="flex-end">
            <Button color="red" variant="light" onClick={() => ask('all')}>
              Sign out all other sessions
            </Button>
          </Group>
        )}
      </Stack>
      <ConfirmModal
        {...modal}
        title={pending === 'all' ? 'Sign out all other sessions?' : 'Sign out this session?'}
        confirmLabel="Sign out"
      >
        {pending === 'all'
          ? `Every other browser and login of yours (${others}) is signed out at once; this one stays.`
          : pending && `${label(pending)} is signed out at once and must sign in again.`}
      </ConfirmModal>
    </Paper>
  );
}
