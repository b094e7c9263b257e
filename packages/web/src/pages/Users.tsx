import { Badge, Button, Group, Modal, Paper, PasswordInput, Select, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { users } from '../api/endpoints.js';
import { ROLES, type Role } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { PageHeader } from '../components/PageHeader.js';
import { formatDate } from '../lib/format.js';
import { useNarrow } from '../lib/useNarrow.js';

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including users',
  manager: 'agents, keys, audit and alerts',
  member: 'agents and API keys',
  viewer: 'read agents and the audit log',
};
const roleOptions = ROLES.map((r) => ({ value: r, label: `${r} (${ROLE_HELP[r]})` }));

function CreateUser({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<string | null>('member');
  const create = useMutation({ mutationFn: () => users.create({ email: email.trim(), password, role: (role ?? 'member') as Role }), onSuccess: onDone });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Add a user">
      <Stack>
        <ErrorNotice error={create.error} title="Could not add the user" />
        <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} data-autofocus />
        <PasswordInput label="Initial password" description="At least 12 characters; share it safely" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <Select label="Role" data={roleOptions} value={role} onChange={setRole} allowDeselect={false} />
        <Group justify="flex-end">
          <Button type="submit" loading={create.isPending}>
            Add user
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function UsersPage() {
  const { user: me, can } = useAuth();
  const narrow = useNarrow();
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['users'], queryFn: () => users.list(), enabled: can('admin') });
  const [adding, setAdding] = useState(false);
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => users.setRole(id, role),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });

  if (!can('admin')) return <EmptyState title="Admins only">Ask an admin of your organization to manage users and roles.</EmptyState>;

  return (
    <>
      <PageHeader title="Users and roles" description="People in your organization and what their role lets them do." actions={<Button onClick={() => setAdding(true)}>Add user</Button>} />
      <Stack>
        <ErrorNotice error={list.error ?? setRole.error} />
        {list.isPending ? (
          <Skeleton h={160} />
        ) : (
          list.data && (
            <Paper withBorder radius="md">
              <Table.ScrollContainer minWidth={narrow ? 0 : 640}>
                <Table verticalSpacing="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Email</Table.Th>
                      <Table.Th>Role</Table.Th>
                      <Table.Th visibleFrom="sm">2FA</Table.Th>
                      <Table.Th visibleFrom="sm">Since</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {list.data.users.map((u) => (
                      <Table.Tr key={u.id}>
                        <Table.Td>
                          <Text size="sm" fw={500} style={{ wordBreak: 'break-all' }}>
                            {u.email}
                          </Text>
                          {u.id === me?.id && (
                            <Text size="xs" c="dimmed">
                              you
                            </Text>
                          )}
                          {u.disabled_at && (
                            <Badge color="gray" size="xs">
                              disabled
                            </Badge>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Select
                            aria-label={`Role of ${u.email}`}
                            data={ROLES}
                            value={u.role}
                            allowDeselect={false}
                            disabled={u.id === me?.id}
                            onChange={(value) => value && value !== u.role && setRole.mutate({ id: u.id, role: value as Role })}
                            w={narrow ? 112 : 140}
                          />
                        </Table.Td>
                        <Table.Td visibleFrom="sm">
                          <Badge color={u.mfa_enabled ? 'green' : 'gray'} variant="light">
                            {u.mfa_enabled ? 'on' : 'off'}
                          </Badge>
                        </Table.Td>
                        <Table.Td visibleFrom="sm">{formatDate(u.created_at)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
          )
        )}
      </Stack>
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add a user">
        <CreateUser
          onDone={() => {
            setAdding(false);
            void queryClient.invalidateQueries({ queryKey: ['users'] });
          }}
        />
      </Modal>
    </>
  );
}
