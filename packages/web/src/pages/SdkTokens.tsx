import { Button, Code, Skeleton, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { sdkTokens } from '../api/endpoints.js';
import type { SdkToken } from '../api/types.js';
import { ConfirmModal } from '../components/ConfirmModal.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { ListTable } from '../components/ListTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { ScopeBadges } from '../components/ScopeBadges.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatDate, fromNow } from '../lib/format.js';
import { useConfirmedRevoke } from '../lib/useConfirmedRevoke.js';

export function SdkTokensPage() {
  const list = useQuery({ queryKey: ['sdk-tokens'], queryFn: () => sdkTokens.list() });
  const { pending, ask, modal } = useConfirmedRevoke<SdkToken>(['sdk-tokens'], {
    one: (t) => sdkTokens.revoke(t.id),
    all: () => sdkTokens.revokeAll(),
  });
  const live = list.data?.sdk_tokens.filter((t) => t.status === 'active') ?? [];

  return (
    <>
      <PageHeader
        title="SDK tokens"
        description={
          <>
            OAuth refresh tokens your SDKs and CI trade at <Code>/oauth/token</Code>. Create them with the CLI or <Code>POST /api/v1/sdk-tokens</Code>.
          </>
        }
        actions={
          live.length > 0 && (
            <Button color="red" variant="light" onClick={() => ask('all')}>
              Revoke all
            </Button>
          )
        }
      />
      <ErrorNotice error={list.error} title="Could not load SDK tokens" />
      {list.isPending ? (
        <Skeleton h={160} />
      ) : list.data && list.data.sdk_tokens.length === 0 ? (
        <EmptyState title="No SDK tokens">
          When you connect an SDK with your account, its token shows up here, with when and where it was last used, so you can revoke it.
        </EmptyState>
      ) : (
        list.data && (
          <ListTable
            minWidth={720}
            verticalSpacing="sm"
            head={
              <>
                <Table.Th>Name</Table.Th>
                <Table.Th visibleFrom="sm">Scopes</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th visibleFrom="sm">Created</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th visibleFrom="sm">Expires</Table.Th>
                <Table.Th />
              </>
            }
          >
            {list.data.sdk_tokens.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td fw={500}>{t.name}</Table.Td>
                <Table.Td visibleFrom="sm">
                  <ScopeBadges scopes={t.scopes} />
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={t.status} />
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDate(t.created_at)}</Table.Td>
                <Table.Td>
                  <Text size="sm">{fromNow(t.last_used_at)}</Text>
                  {t.last_used_ip && (
                    <Text size="xs" c="dimmed">
                      {t.last_used_ip}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDate(t.expires_at)}</Table.Td>
                <Table.Td>
                  {t.status === 'active' && (
                    <Button size="compact-sm" color="red" variant="subtle" onClick={() => ask(t)} aria-label={`Revoke ${t.name}`}>
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )
      )}
      <ConfirmModal
        {...modal}
        title={pending === 'all' ? 'Revoke every SDK token?' : 'Revoke this SDK token?'}
        confirmLabel="Revoke"
      >
        {pending === 'all' ? 'Every SDK signed in with your account stops at once and must be given a new token.' : `${pending?.name ?? ''} stops at once. This cannot be undone.`}
      </ConfirmModal>
    </>
  );
}
