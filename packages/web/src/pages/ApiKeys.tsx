import { isScope } from '@aim/protocol';
import { Button, Checkbox, Group, Menu, Modal, NumberInput, SimpleGrid, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { apiKeys } from '../api/endpoints.js';
import { API_KEY_SCOPES, type ApiKey, type CreatedApiKey } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { ActionsHeader, ActionsMenu } from '../components/ActionsMenu.js';
import { BarChart, lastDays } from '../components/BarChart.js';
import { ConfirmModal } from '../components/ConfirmModal.js';
import { DueBadge } from '../components/DueBadge.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { ListTable } from '../components/ListTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { ScopeBadges } from '../components/ScopeBadges.js';
import { SecretOnce } from '../components/SecretOnce.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { formatDate, fromNow } from '../lib/format.js';
import { useConfirmed } from '../lib/useConfirmed.js';
import { useMenuTrigger } from '../lib/useMenuTrigger.js';

const DEFAULT_SCOPES = ['agents:read', 'agents:write', 'verify'];

function CreateKeyForm({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const { can } = useAuth();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(DEFAULT_SCOPES);
  const [days, setDays] = useState<number | string>(90);
  const create = useMutation({
    mutationFn: () => apiKeys.create({ name: name.trim(), scopes, ...(typeof days === 'number' ? { expires_in_days: days } : {}) }),
    onSuccess: onCreated,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Create an API key">
      <Stack>
        <ErrorNotice error={create.error} title="Could not create the key" />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} placeholder="ci-deploy" data-autofocus />
        <Checkbox.Group label="Scopes" value={scopes} onChange={setScopes} description="A key never holds more than your role allows.">
          <SimpleGrid cols={2} mt="xs" spacing="xs">
            {API_KEY_SCOPES.map((scope) => (
              <Checkbox key={scope} value={scope} label={scope} disabled={!can(scope)} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        <NumberInput label="Expires in (days)" min={1} max={3650} value={days} onChange={setDays} description="The server caps this at AIM_API_KEY_MAX_AGE_DAYS." />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending} disabled={scopes.length === 0}>
            Create key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Usage({ apiKey, onClose, onClosed }: { apiKey: ApiKey | null; onClose: () => void; onClosed: () => void }) {
  const usage = useQuery({ queryKey: ['api-key-usage', apiKey?.id], queryFn: () => apiKeys.usage(apiKey!.id, 30), enabled: apiKey !== null });
  const days = lastDays(30);
  const counts = new Map((usage.data?.days ?? []).map((d) => [d.day, d.requests]));
  return (
    <Modal opened={apiKey !== null} onClose={onClose} onExitTransitionEnd={onClosed} title={`Usage of ${apiKey?.name ?? ''}`} size="lg">
      <ErrorNotice error={usage.error} />
      {usage.isPending ? (
        <Skeleton h={200} />
      ) : (
        usage.data && (
          <Stack>
            <Text size="sm">
              <b>{usage.data.total_requests}</b> requests in the last 30 days · last used {fromNow(usage.data.last_used_at)}
              {usage.data.last_used_ip ? ` from ${usage.data.last_used_ip}` : ''}
            </Text>
            <BarChart title="Requests per day" series={[{ name: 'requests', color: '#4c6ef5' }]} points={days.map((d) => ({ label: d.slice(5), values: [counts.get(d) ?? 0] }))} />
            {usage.data.routes.length > 0 && (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Route</Table.Th>
                    <Table.Th ta="right">Requests</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {usage.data.routes.map((r) => (
                    <Table.Tr key={r.route}>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {r.route}
                        </Text>
                      </Table.Td>
                      <Table.Td ta="right">{r.requests}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            <Text size="xs" c="dimmed">
              Counts are flushed every few seconds, so the latest requests may take a moment to appear.
            </Text>
          </Stack>
        )
      )}
    </Modal>
  );
}

export function ApiKeysPage() {
  const { can } = useAuth();
  // The server refuses to rotate or revoke a key whose scopes the caller's role could not grant; say so up front.
  const mayManage = (k: ApiKey) => k.scopes.every((scope) => isScope(scope) && can(scope));
  const queryClient = useQueryClient();
  const menuTrigger = useMenuTrigger();
  const list = useQuery({ queryKey: ['api-keys'], queryFn: () => apiKeys.list() });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<CreatedApiKey | null>(null);
  const [usageOf, setUsageOf] = useState<ApiKey | null>(null);
  const [revokeMinted, setRevokeMinted] = useState(false);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['api-keys'] });
  const { pending, ask, reset, modal } = useConfirmed(
    async (p: { kind: 'rotate' | 'revoke'; key: ApiKey }) => (p.kind === 'rotate' ? apiKeys.rotate(p.key.id) : (await apiKeys.revoke(p.key.id, revokeMinted), null)),
    {
      onDone: (created) => {
        setRevokeMinted(false);
        if (created) setSecret(created);
        refresh();
      },
      onClose: () => setRevokeMinted(false),
    },
  );
  const keys = list.data?.api_keys ?? [];
  const prefixOf = (keyId: string) => keys.find((k) => k.id === keyId)?.prefix;
  // Keys this page shows that the pending key made: the server follows the whole tree, this is only the hint.
  const mintedFromPending = pending ? keys.filter((k) => k.minted_by === pending.key.id).length : 0;
  const replacedInGrace = pending?.key.rotated_from ? keys.find((k) => k.id === pending.key.rotated_from && k.status === 'grace') : undefined;

  const closeCreate = () => {
    setCreating(false);
    setSecret(null);
    // A rotation's answer holds the new key too.
    reset();
  };

  return (
    <>
      <PageHeader title="API keys" description="For SDKs, CI and scripts: sent as X-API-Key. AIM stores only a hash." actions={<Button onClick={() => setCreating(true)}>Create API key</Button>} />
      <ErrorNotice error={list.error} title="Could not load API keys" />
      {list.isPending ? (
        <Skeleton h={200} />
      ) : list.data && list.data.api_keys.length === 0 ? (
        <EmptyState title="No API keys yet" action={<Button onClick={() => setCreating(true)}>Create your first key</Button>}>
          An API key lets automation register agents and verify their actions. It is shown once, when you create it.
        </EmptyState>
      ) : (
        list.data && (
          <ListTable
            minWidth={860}
            verticalSpacing="sm"
            highlightOnHover
            head={
              <>
                <Table.Th>Name</Table.Th>
                <Table.Th visibleFrom="sm">Prefix</Table.Th>
                <Table.Th visibleFrom="sm">Scopes</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th visibleFrom="sm">Expires</Table.Th>
                <Table.Th visibleFrom="sm">Last used</Table.Th>
                <ActionsHeader />
              </>
            }
          >
            {list.data.api_keys.map((k) => (
              <Table.Tr key={k.id} data-testid={`api-key-${k.prefix}`}>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {k.name}
                  </Text>
                  <Text size="xs" c="dimmed" ff="monospace" hiddenFrom="sm">
                    {k.prefix}…
                  </Text>
                  {k.minted_by && (
                    <Text size="xs" c="dimmed">
                      made with key {prefixOf(k.minted_by) ? `${prefixOf(k.minted_by)}…` : 'not on this page'}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <Text size="sm" ff="monospace">
                    {k.prefix}…
                  </Text>
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <ScopeBadges scopes={k.scopes} />
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <StatusBadge status={k.status} />
                    {k.expiring_soon && <DueBadge>expiring soon</DueBadge>}
                  </Group>
                </Table.Td>
                <Table.Td visibleFrom="sm">{formatDate(k.expires_at)}</Table.Td>
                <Table.Td visibleFrom="sm">{fromNow(k.last_used_at)}</Table.Td>
                <Table.Td>
                  <ActionsMenu of={k.name} onOpen={menuTrigger.remember}>
                    <Menu.Item onClick={() => setUsageOf(k)}>Usage</Menu.Item>
                    <Menu.Item disabled={k.status !== 'active' || !mayManage(k)} onClick={() => ask({ kind: 'rotate', key: k })}>
                      Rotate
                    </Menu.Item>
                    <Menu.Item
                      color="red"
                      disabled={k.status === 'revoked' || k.status === 'expired' || !mayManage(k)}
                      onClick={() => ask({ kind: 'revoke', key: k })}
                    >
                      Revoke
                    </Menu.Item>
                    {!mayManage(k) && (
                      <Menu.Label maw={220} style={{ whiteSpace: 'normal' }}>
                        Your role cannot grant this key&apos;s scopes, so it cannot rotate or revoke it.
                      </Menu.Label>
                    )}
                  </ActionsMenu>
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )
      )}

      <Modal opened={creating || secret !== null} onClose={closeCreate} onExitTransitionEnd={menuTrigger.restore} title={secret ? 'Your new API key' : 'Create an API key'} size="lg">
        {secret ? (
          <Stack>
            <SecretOnce label="this key" value={secret.key} />
            <Group justify="flex-end">
              <Button variant="default" onClick={closeCreate}>
                I have saved it
              </Button>
            </Group>
          </Stack>
        ) : (
          <CreateKeyForm
            onCreated={(key) => {
              setSecret(key);
              refresh();
            }}
          />
        )}
      </Modal>
      <Usage apiKey={usageOf} onClose={() => setUsageOf(null)} onClosed={menuTrigger.restore} />
      <ConfirmModal
        {...modal}
        title={pending?.kind === 'rotate' ? 'Rotate this key?' : 'Revoke this key?'}
        confirmLabel={pending?.kind === 'rotate' ? 'Rotate' : 'Revoke'}
        color={pending?.kind === 'rotate' ? 'indigo' : 'red'}
        onClosed={menuTrigger.restore}
      >
        {pending?.kind === 'rotate' ? (
          <>
            A new key replaces <b>{pending.key.name}</b>. The old key keeps working for the grace period, then stops.
          </>
        ) : (
          <>
            <b>{pending?.key.name}</b> ({pending?.key.prefix}…) stops working at once. This cannot be undone.
            {replacedInGrace && <> The key it replaced ({replacedInGrace.prefix}…), still in its grace period, stops with it.</>}
            {mintedFromPending > 0 && (
              <Checkbox
                mt="md"
                checked={revokeMinted}
                onChange={(e) => setRevokeMinted(e.currentTarget.checked)}
                label={`Also revoke the ${mintedFromPending === 1 ? 'key' : `${mintedFromPending} keys`} made with it, and any made with those`}
                description="For a leaked key: whoever held it could have made keys that outlive it."
              />
            )}
          </>
        )}
      </ConfirmModal>
    </>
  );
}
