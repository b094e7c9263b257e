import { ROLE_SCOPES } from '@aim/protocol';
import { Alert, Badge, Button, Group, Menu, Modal, PasswordInput, Select, Skeleton, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { users } from '../api/endpoints.js';
import { ROLES, type IssuedPasswordReset, type Revoked, type Role, type User } from '../api/types.js';
import { useAuth } from '../auth/AuthProvider.js';
import { ActionsHeader, ActionsMenu } from '../components/ActionsMenu.js';
import { ConfirmModal } from '../components/ConfirmModal.js';
import { EmptyState } from '../components/EmptyState.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { ListTable } from '../components/ListTable.js';
import { PageHeader } from '../components/PageHeader.js';
import { SecretOnce } from '../components/SecretOnce.js';
import { formatDate, formatDateTime } from '../lib/format.js';
import { useConfirmed } from '../lib/useConfirmed.js';
import { useMenuTrigger } from '../lib/useMenuTrigger.js';
import { useNarrow } from '../lib/useNarrow.js';
import { usePageTitle } from '../lib/usePageTitle.js';

const ROLE_HELP: Record<Role, string> = {
  admin: 'everything, including users',
  manager: 'agents, keys, audit and alerts',
  member: 'agents and API keys',
  viewer: 'read agents and the audit log',
};
const roleOptions = ROLES.map((r) => ({ value: r, label: `${r} (${ROLE_HELP[r]})` }));

/** As the server decides (users/offboarding.ts): a role that loses any scope signs the person out and revokes their keys. */
function losesRights(from: Role, to: Role): boolean {
  return ROLE_SCOPES[from].some((scope) => !ROLE_SCOPES[to].includes(scope));
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What a role change did, from `PATCH /api/v1/users/{id}`'s `revoked`. */
function roleChanged(email: string, role: Role, revoked: Revoked): string {
  const ended = revoked.sessions + revoked.api_keys > 0;
  return ended
    ? `${email} is now ${role}: ${plural(revoked.sessions, 'session or SDK token', 'sessions or SDK tokens')} ended and ${plural(revoked.api_keys, 'API key', 'API keys')} revoked.`
    : `${email} is now ${role}.`;
}

type Action = 'disable' | 'enable' | 'delete' | 'reset-mfa' | 'reset-password';

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
  'reset-password': {
    title: 'Make a password reset link?',
    label: 'Make link',
    color: 'orange',
    text: (email) =>
      `AIM sends no email: you get a one-time link to hand to ${email} yourself. It replaces any earlier link. Setting a new password with it signs them out everywhere; their 2FA stays as it is.`,
  },
};

/** Answers the reset link for 'reset-password' (shown once), nothing for the others. */
async function runAction(action: Action, userId: string): Promise<IssuedPasswordReset | null> {
  switch (action) {
    case 'disable':
      await users.disable(userId);
      return null;
    case 'enable':
      await users.enable(userId);
      return null;
    case 'delete':
      await users.remove(userId);
      return null;
    case 'reset-mfa':
      await users.resetMfa(userId);
      return null;
    case 'reset-password':
      return users.resetPassword(userId);
  }
}

/** The reset link, once: closing the dialog forgets it (the server keeps only its hash). */
function ResetLink({ issued, onClose, onClosed }: { issued: { email: string; link: IssuedPasswordReset } | null; onClose: () => void; onClosed: () => void }) {
  return (
    <Modal opened={issued !== null} onClose={onClose} onExitTransitionEnd={onClosed} title="Password reset link" size="lg">
      {issued && (
        <Stack>
          <Text size="sm">
            For <strong>{issued.email}</strong>.
          </Text>
          <SecretOnce
            label="this link"
            value={issued.link.reset_url}
            warning={`Send it to them privately; it works once, until ${formatDateTime(issued.link.expires_at)}; making a new link cancels this one.`}
            note="This is the only time the link is shown. Using it signs them out everywhere."
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Done
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
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
        <PasswordInput label="Initial password" description="At least 12 characters, not a common one; share it safely" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
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
  const menuTrigger = useMenuTrigger();
  const list = useQuery({ queryKey: ['users'], queryFn: () => users.list(), enabled: can('admin') });
  const [adding, setAdding] = useState(false);
  const [issued, setIssued] = useState<{ email: string; link: IssuedPasswordReset } | null>(null);
  const act = useConfirmed(({ action, user }: { action: Action; user: User }) => runAction(action, user.id), {
    onDone: (link, { user }) => {
      if (link) setIssued({ email: user.email, link });
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const pending = act.pending;
  // A lower role waits in `lowering` for a confirmation; a promotion takes nothing away and applies at once.
  const [lowering, setLowering] = useState<{ user: User; role: Role } | null>(null);
  const [changed, setChanged] = useState<string | null>(null);
  const setRole = useMutation({
    mutationFn: ({ user, role }: { user: User; role: Role }) => users.setRole(user.id, role),
    onMutate: () => setChanged(null),
    onSuccess: (answer, { user, role }) => {
      setLowering(null);
      setChanged(roleChanged(user.email, role, answer.revoked));
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['users'] }),
  });
  const chooseRole = (user: User, role: Role) => {
    if (role === user.role) return;
    if (losesRights(user.role, role)) setLowering({ user, role });
    else setRole.mutate({ user, role });
  };

  // Also for those turned away, who see no page header.
  usePageTitle('Users and roles');

  if (!can('admin')) return <EmptyState title="Admins only">Ask an admin of your organization to manage users and roles.</EmptyState>;

  return (
    <>
      <PageHeader title="Users and roles" description="People in your organization and what their role lets them do. Lowering a role signs the person out everywhere and revokes the API keys they created." actions={<Button onClick={() => setAdding(true)}>Add user</Button>} />
      <Stack>
        <ErrorNotice error={list.error ?? (lowering ? null : setRole.error)} />
        {changed && (
          <Alert color="teal" variant="light" role="status" withCloseButton closeButtonLabel="Dismiss" onClose={() => setChanged(null)}>
            {changed}
          </Alert>
        )}
        {list.isPending ? (
          <Skeleton h={160} />
        ) : (
          list.data && (
            <ListTable
              minWidth={640}
              verticalSpacing="sm"
              head={
                <>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th visibleFrom="sm">2FA</Table.Th>
                  <Table.Th visibleFrom="sm">Since</Table.Th>
                  <ActionsHeader />
                </>
              }
            >
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
                      onChange={(value) => value && chooseRole(u, value as Role)}
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
                      <ActionsMenu of={u.email} onOpen={menuTrigger.remember}>
                        {u.status === 'disabled' ? (
                          <Menu.Item onClick={() => act.ask({ action: 'enable', user: u })}>Enable</Menu.Item>
                        ) : (
                          <Menu.Item onClick={() => act.ask({ action: 'disable', user: u })}>Disable</Menu.Item>
                        )}
                        <Menu.Item disabled={u.status === 'disabled'} onClick={() => act.ask({ action: 'reset-password', user: u })}>
                          Reset password
                        </Menu.Item>
                        <Menu.Item disabled={!u.mfa_enabled} onClick={() => act.ask({ action: 'reset-mfa', user: u })}>
                          Reset 2FA
                        </Menu.Item>
                        <Menu.Item color="red" onClick={() => act.ask({ action: 'delete', user: u })}>
                          Delete
                        </Menu.Item>
                      </ActionsMenu>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </ListTable>
          )
        )}
      </Stack>
      <ConfirmModal
        {...act.modal}
        title={pending ? CONFIRM[pending.action].title : ''}
        confirmLabel={pending ? CONFIRM[pending.action].label : ''}
        color={pending ? CONFIRM[pending.action].color : 'red'}
        onClosed={menuTrigger.restore}
      >
        {pending && CONFIRM[pending.action].text(pending.user.email)}
      </ConfirmModal>
      <ConfirmModal
        opened={lowering !== null}
        title="Lower this role?"
        confirmLabel="Lower role"
        color="orange"
        busy={setRole.isPending}
        error={setRole.error}
        onConfirm={() => lowering && setRole.mutate(lowering)}
        onClose={() => {
          setLowering(null);
          setRole.reset();
        }}
      >
        {lowering &&
          `${lowering.user.email} becomes ${lowering.role}, with fewer rights than ${lowering.user.role}. They are signed out everywhere (sessions and SDK tokens end) and the API keys they created are revoked, since those carry the old role's scopes; they sign in again with their password.`}
      </ConfirmModal>
      <ResetLink
        issued={issued}
        onClosed={menuTrigger.restore}
        onClose={() => {
          setIssued(null);
          act.reset();
        }}
      />
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
