import { Anchor, Button, Code, Group, Modal, Paper, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { agents } from '../api/endpoints.js';
import type { AgentKey, Verification } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { CapabilitiesInput } from '../components/CapabilitiesInput.js';
import { DueBadge } from '../components/DueBadge.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { invalidCapabilities } from '../lib/capabilities.js';
import { daysUntil, formatDateTime, fromNow, shortId } from '../lib/format.js';
import { useNarrow } from '../lib/useNarrow.js';
import { usePageTitle } from '../lib/usePageTitle.js';

/** Long single-line values (messages, signatures) wrap instead of running out of the dialog. */
const WRAP = { whiteSpace: 'pre-wrap', wordBreak: 'break-all' } as const;

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div" style={{ wordBreak: 'break-all' }}>
        {children}
      </Text>
    </div>
  );
}

function Evidence({ verification, keys, onClose }: { verification: Verification | null; keys: AgentKey[]; onClose: () => void }) {
  const key = keys.find((k) => k.key_id === verification?.key_id);
  return (
    <Modal opened={verification !== null} onClose={onClose} title="Verification evidence" size="lg">
      {verification && (
        <Stack gap="sm">
          <Group>
            <StatusBadge status={verification.decision} />
            <Text size="sm">{verification.reason.replace(/_/g, ' ')}</Text>
          </Group>
          <Field label="Signed message (UTF-8)">
            <Code block style={WRAP}>{verification.message}</Code>
          </Field>
          <Field label="Signature (base64 Ed25519)">
            <Code block style={WRAP}>{verification.signature}</Code>
          </Field>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Field label="Verification id">{verification.id}</Field>
            <Field label="Key id">{verification.key_id ?? '—'}</Field>
            <Field label="Nonce">{verification.nonce}</Field>
            <Field label="Signed at">{formatDateTime(verification.timestamp * 1000)}</Field>
            <Field label="Caller">
              {verification.caller.type} {shortId(verification.caller.id)}
            </Field>
            <Field label="Address">{verification.ip ?? '—'}</Field>
          </SimpleGrid>
          {key && (
            <Field label="Public key to re-check it with">
              <Code block>{key.public_key_pem}</Code>
            </Field>
          )}
          <Text size="xs" c="dimmed">
            Anyone can re-check this decision offline: verify the signature over the message with the public key (for example with openssl pkeyutl -verify -rawin).
          </Text>
        </Stack>
      )}
    </Modal>
  );
}

export function AgentDetailPage() {
  const { agentId = '' } = useParams();
  const { can } = useAuth();
  const narrow = useNarrow();
  const queryClient = useQueryClient();
  const agent = useQuery({ queryKey: ['agent', agentId], queryFn: () => agents.get(agentId) });
  const keys = useQuery({ queryKey: ['agent', agentId, 'keys'], queryFn: () => agents.keys(agentId) });
  const recent = useQuery({ queryKey: ['agent', agentId, 'verifications'], queryFn: () => agents.verifications(agentId), refetchInterval: 15_000 });
  // Unsaved edits, kept apart from the server's copy: a refetch (after Suspend, say) must not wipe them.
  const [draft, setDraft] = useState<string[] | null>(null);
  const [evidence, setEvidence] = useState<Verification | null>(null);
  usePageTitle(agent.data?.name ?? 'Agent');

  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['agent', agentId] }).then(() => queryClient.invalidateQueries({ queryKey: ['agents'] }));
  const save = useMutation({
    mutationFn: (capabilities: string[]) => agents.update(agentId, { capabilities }),
    onSuccess: (updated) => {
      queryClient.setQueryData(['agent', agentId], updated);
      setDraft(null);
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: () => (agent.data?.status === 'active' ? agents.suspend(agentId) : agents.reactivate(agentId)),
    onSuccess: refresh,
  });

  if (agent.isPending) return <Skeleton h={300} />;
  if (agent.error || !agent.data) {
    return (
      <Stack>
        <ErrorNotice error={agent.error} title="Could not load this agent" />
        <Anchor component={Link} to="/agents">
          Back to agents
        </Anchor>
      </Stack>
    );
  }
  const a = agent.data;
  const writable = can('agents:write') && a.status !== 'revoked';
  const capabilities = draft ?? a.capabilities;
  const changed = capabilities.join('\n') !== a.capabilities.join('\n');
  const daysLeft = a.key_expires_at !== null ? daysUntil(a.key_expires_at) : null;

  return (
    <>
      <Group justify="space-between" mb="lg" align="flex-end">
        <Stack gap={2}>
          <Anchor component={Link} to="/agents" size="sm">
            ← Agents
          </Anchor>
          <Group gap="sm">
            <Title order={1} size="h2">{a.name}</Title>
            <StatusBadge status={a.status} />
          </Group>
          <Text c="dimmed" size="sm">
            {a.type.replace(/_/g, ' ')}
            {a.description ? ` · ${a.description}` : ''}
          </Text>
        </Stack>
        {writable && (
          <Button color={a.status === 'active' ? 'orange' : 'green'} variant="light" loading={toggle.isPending} onClick={() => toggle.mutate()}>
            {a.status === 'active' ? 'Suspend' : 'Reactivate'}
          </Button>
        )}
      </Group>
      <Stack gap="lg">
        <ErrorNotice error={toggle.error} />
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Paper withBorder radius="md" p="md">
            <Title order={2} size="h4" mb="sm">
              Identity
            </Title>
            <Stack gap="xs">
              <Field label="Agent id">
                <Code>{a.agent_id}</Code>
              </Field>
              <Field label="Current key">{a.key_id ?? 'none'}</Field>
              <Field label="Key rotation">
                {a.key_expires_at === null ? (
                  'no live key'
                ) : (
                  <Group gap={6}>
                    <span>
                      expires {formatDateTime(a.key_expires_at)} ({daysLeft !== null && daysLeft >= 0 ? `${daysLeft} days left` : 'expired'})
                    </span>
                    {a.rotation_due && <DueBadge>rotation due</DueBadge>}
                  </Group>
                )}
              </Field>
              <Field label="Registered">{formatDateTime(a.created_at)}</Field>
            </Stack>
          </Paper>
          <Paper withBorder radius="md" p="md">
            <Title order={2} size="h4" mb="sm">
              Capabilities
            </Title>
            <Stack gap="sm">
              <CapabilitiesInput
                value={capabilities}
                onChange={setDraft}
                disabled={!writable}
                {...(writable && { placeholder: 'Add a capability and press Enter' })}
              />
              <Text size="xs" c="dimmed">
                Without a matching capability, verify-action answers allowed: false (capability missing, or resource not allowed when only the resource is outside it).
              </Text>
              <ErrorNotice error={save.error} title="Could not save capabilities" />
              {writable && (
                <Group justify="flex-end">
                  <Button variant="default" disabled={!changed} onClick={() => setDraft(null)}>
                    Reset
                  </Button>
                  <Button disabled={!changed || invalidCapabilities(capabilities).length > 0} loading={save.isPending} onClick={() => save.mutate(capabilities)}>
                    Save capabilities
                  </Button>
                </Group>
              )}
            </Stack>
          </Paper>
        </SimpleGrid>

        <Paper withBorder radius="md" p="md">
          <Title order={2} size="h4" mb="sm">
            Key history
          </Title>
          <ErrorNotice error={keys.error} />
          <Table.ScrollContainer minWidth={narrow ? 0 : 560}>
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Key</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th visibleFrom="sm">Created</Table.Th>
                  <Table.Th>Expires</Table.Th>
                  <Table.Th visibleFrom="sm">Grace until</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {keys.data?.keys.map((k) => (
                  <Table.Tr key={k.key_id}>
                    <Table.Td>
                      <Code>{shortId(k.key_id)}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        <StatusBadge status={k.status} />
                        {k.rotation_due && <DueBadge>rotation due</DueBadge>}
                      </Group>
                    </Table.Td>
                    <Table.Td visibleFrom="sm">{formatDateTime(k.created_at)}</Table.Td>
                    <Table.Td>{formatDateTime(k.expires_at)}</Table.Td>
                    <Table.Td visibleFrom="sm">{formatDateTime(k.grace_until)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Paper>

        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">Recent verifications</Title>
            <Anchor component={Link} to={`/audit?subject=${encodeURIComponent(agentId)}`} size="sm">
              Audit trail of this agent
            </Anchor>
          </Group>
          <ErrorNotice error={recent.error} />
          {recent.data && recent.data.verifications.length === 0 ? (
            <Text c="dimmed" size="sm">
              No signed actions yet. When this agent calls verify-action, each decision and its evidence appear here.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={narrow ? 0 : 640}>
              <Table highlightOnHover data-testid="verifications">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th visibleFrom="sm">When</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th visibleFrom="sm">Resource</Table.Th>
                    <Table.Th>Decision</Table.Th>
                    <Table.Th>Evidence</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {recent.data?.verifications.map((v) => (
                    <Table.Tr key={v.id}>
                      <Table.Td visibleFrom="sm">
                        <Text size="sm" title={formatDateTime(v.created_at)}>
                          {fromNow(v.created_at)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Code>{v.action}</Code>
                        <Text size="xs" c="dimmed" hiddenFrom="sm">
                          {fromNow(v.created_at)}
                        </Text>
                      </Table.Td>
                      <Table.Td visibleFrom="sm">
                        <Text size="sm" lineClamp={1} maw={260}>
                          {v.resource}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={6}>
                          <StatusBadge status={v.decision} />
                          {!v.allowed && (
                            <Text size="xs" c="dimmed" visibleFrom="sm">
                              {v.reason.replace(/_/g, ' ')}
                            </Text>
                          )}
                        </Group>
                      </Table.Td>
                      <Table.Td>
                        <Button size="compact-sm" variant="subtle" onClick={() => setEvidence(v)} aria-label={`View evidence: ${v.action} on ${v.resource} (${v.decision})`}>
                          View
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Paper>
      </Stack>
      <Evidence verification={evidence} keys={keys.data?.keys ?? []} onClose={() => setEvidence(null)} />
    </>
  );
}
