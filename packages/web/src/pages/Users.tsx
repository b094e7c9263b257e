import { Badge, Button, Group, Menu, Modal, Paper, PasswordInput, Select, Skeleton, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { users } from '../api/endpoints.js';
import { ROLES, type Role, type User } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { ConfirmModal } from '../components/ConfirmModal.js';
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

type Action = 'disable' | 'enable' | 'delete' | 'reset-mfa';

const CONFIRM: Record<Action, { title: string; label: string; color: string; text: (email: string) => string }> = {
  disable: {
    title: 'Disable this user?',
    label: 'Disable',
    color: 'red',
    text: (email) => `${email} can no longer sign in. Their sessions, SDK tokens and the API keys they created stop working at once, and stay revoked if you enable them again.`,
  },
  enable: { title: 'Enable this user?', label: 'Enable', color: 'indigo', text: (email) => `${email} can sign in again. Credentials revoked earlier stay revoked.` },
  delete: {
    title: 'Delete this user?',
    label: 'Delete',
    color: 'red',
    text: (email) => `${email} is removed for good: every session, SDK token and API key they created is revoked, and the email can be used for a new account. The audit log keeps what they did. This cannot be undone.`,
  },
  'reset-mfa': {
    title: 'Reset two-factor authentication?',
    label: 'Reset 2FA',
    color: 'orange',
    text: (email) => `${email}'s authenticator and recovery codes stop working and their sessions end. They sign in with their password and can set up 2FA again.`,
  },
};

function runAction(action: Action, userId: string): Promise<unknown> {
  switch (action) {
    case 'disable':
      return users.disable(userId);
    case 'enable':
      return users.enable(userId);
    case 'delete':
      return users.remove(userId);
    case 'reset-mfa':
      return users.resetMfa(userId);
  }
}

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
  const [pending, setPending] = useState<{ action: Action; user: User } | null>(null);
  const act = useMutation({
    mutationFn: ({ action, user }: { action: Action; user: User }) => runAction(action, user.id),
    onSuccess: () => setPending(null),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) => users.setRole(id, role),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });

  if (!can('admin')) return <EmptyState title="Admins only">Ask an admin of your organization to manage users and roles.</EmptyState>;

  return (
    <>
      <PageHeader title="Users and roles" description="People in your organization and what their role lets them do. Lowering a role signs the person out everywhere and revokes the API keys they created." actions={<Button onClick={() => setAdding(true)}>Add user</Button>} />
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
                      <Table.Th>
                        <VisuallyHidden>Actions</VisuallyHidden>
                      </Table.Th>
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
                          {u.status === 'disabled' && (
                            <Badge color="red" variant="light" size="xs" data-testid={`status-${u.email}`}>
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
                        <Table.Td>
                          {u.id !== me?.id && (
                            <Menu position="bottom-end" withinPortal>
                              <Menu.Target>
                                <Button size="compact-sm" variant="default" aria-label={`Actions for ${u.email}`}>
                                  Actions
                                </Button>
                              </Menu.Target>
                              <Menu.Dropdown>
                                {u.status === 'disabled' ? (
                                  <Menu.Item onClick={() => setPending({ action: 'enable', user: u })}>Enable</Menu.Item>
                                ) : (
                                  <Menu.Item onClick={() => setPending({ action: 'disable', user: u })}>Disable</Menu.Item>
                                )}
                                <Menu.Item disabled={!u.mfa_enabled} onClick={() => setPending({ action: 'reset-mfa', user: u })}>
                                  Reset 2FA
                                </Menu.Item>
                                <Menu.Item color="red" onClick={() => setPending({ action: 'delete', user: u })}>
                                  Delete
                                </Menu.Item>
                              </Menu.Dropdown>
                            </Menu>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Paper>
          )
        )}
      </Stack>
      <ConfirmModal
        opened={pending !== null}
        title={pending ? CONFIRM[pending.action].title : ''}
        confirmLabel={pending ? CONFIRM[pending.action].label : ''}
        color={pending ? CONFIRM[pending.action].color : 'red'}
        busy={act.isPending}
        error={act.error}
        onConfirm={() => pending && act.mutate(pending)}
        onClose={() => {
          setPending(null);
          act.reset();
        }}
      >
        {pending && CONFIRM[pending.action].text(pending.user.email)}
      </ConfirmModal>
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
