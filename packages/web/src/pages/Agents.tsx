import { Anchor, Badge, Button, Group, Select, Skeleton, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { agents } from '../api/endpoints.js';
import { useAuth } from '../auth/AuthProvider.js';
import { DueBadge } from '../components/DueBadge.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { ListTable } from '../components/ListTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { StatusBadge } from '../components/StatusBadge.js';
import { describeCapability } from '../lib/capabilities.js';
import { formatDate } from '../lib/format.js';

export function AgentsPage() {
  const { can } = useAuth();
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<string | null>('');
  const [q] = useDebouncedValue(search.trim(), 250);
  const list = useQuery({ queryKey: ['agents', { q, status }], queryFn: () => agents.list({ q, status: status ?? '', limit: 100 }) });
  const filtered = q !== '' || (status ?? '') !== '';

  return (
    <>
      <PageHeader
        title="Agents"
        description="Agents and MCP servers, each with its own Ed25519 key."
        actions={
          can('agents:write') && (
            <Button component={Link} to="/agents/new">
              Register agent
            </Button>
          )
        }
      />
      <Group mb="md" gap="sm" align="flex-end">
        <TextInput label="Search" placeholder="Name or description" value={search} onChange={(e) => setSearch(e.currentTarget.value)} style={{ flex: 1, minWidth: 180 }} />
        <Select
          label="Status"
          value={status}
          onChange={setStatus}
          allowDeselect={false}
          w={160}
          data={[
            { value: '', label: 'Any status' },
            { value: 'active', label: 'Active' },
            { value: 'suspended', label: 'Suspended' },
            { value: 'revoked', label: 'Revoked' },
          ]}
        />
      </Group>
      <ErrorNotice error={list.error} title="Could not load agents" />
      {list.isPending ? (
        <Skeleton h={200} />
      ) : list.data && list.data.agents.length === 0 ? (
        filtered ? (
          <EmptyState title="No agents match">Try another search or status.</EmptyState>
        ) : (
          <EmptyState
            title="No agents yet"
            action={
              can('agents:write') && (
                <Button component={Link} to="/agents/new">
                  Register your first agent
                </Button>
              )
            }
          >
            Register an agent to give it an identity: it signs its actions with its private key and AIM verifies them.
          </EmptyState>
        )
      ) : (
        list.data && (
          <ListTable
            minWidth={640}
            highlightOnHover
            verticalSpacing="sm"
            head={
              <>
                <Table.Th>Name</Table.Th>
                <Table.Th visibleFrom="sm">Type</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th visibleFrom="sm">Capabilities</Table.Th>
                <Table.Th>Key expires</Table.Th>
                <Table.Th visibleFrom="sm">Created</Table.Th>
              </>
            }
            footer={
              <Text size="xs" c="dimmed" p="sm">
                {list.data.total} agent{list.data.total === 1 ? '' : 's'}
                {list.data.next_cursor ? `, showing the first ${list.data.agents.length}` : ''}
              </Text>
            }
          >
            {list.data.agents.map((a) => (
              <Table.Tr key={a.agent_id}>
                <Table.Td>
                  <Anchor component={Link} to={`/agents/${a.agent_id}`} fw={500}>
                    {a.name}
                  </Anchor>
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <Text size="sm">{a.type.replace(/_/g, ' ')}</Text>
                </Table.Td>
                <Table.Td>
                  <StatusBadge status={a.status} />
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <Group gap={4}>
                    {a.capabilities.length === 0 ? (
                      <Text size="sm" c="dimmed">
                        none
                      </Text>
                    ) : (
                      a.capabilities.slice(0, 3).map((c) => (
                        <Badge key={c} variant="outline" color="gray" radius="sm" tt="none" title={describeCapability(c)}>
                          {c}
                        </Badge>
                      ))
                    )}
                    {a.capabilities.length > 3 && <Text size="xs">+{a.capabilities.length - 3}</Text>}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Group gap={6}>
                    <Text size="sm">{formatDate(a.key_expires_at)}</Text>
                    {a.rotation_due && <DueBadge>rotate</DueBadge>}
                  </Group>
                </Table.Td>
                <Table.Td visibleFrom="sm">
                  <Text size="sm">{formatDate(a.created_at)}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </ListTable>
        )
      )}
    </>
  );
}
