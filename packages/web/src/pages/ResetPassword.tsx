import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { passwordReset } from '../api/endpoints.js';
import { ApiError } from '../api/errors.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { usePageTitle } from '../lib/usePageTitle.js';

/** The server's rule too (checkPasswordPolicy); checked here so a short password never spends a throttle attempt. */
const MIN_LENGTH = 12;

/** `#token=pr_…` from the link an admin made (`POST /api/v1/users/{id}/password-reset`). */
function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token ? token.trim() : null;
}

/**
 * Setting a new password with a reset link, signed out. The token travels in the fragment, which browsers never send
 * to a server; once read it is taken out of the address bar so it does not stay in the history or a shared screen.
 * Nothing is kept in web storage: a reload after that asks for the link again.
 */
export function ResetPasswordPage() {
  const [token] = useState(() => tokenFromHash(window.location.hash));
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [checked, setChecked] = useState(false);
  usePageTitle('Set a new password');
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);
  const reset = useMutation({ mutationFn: (args: { token: string; password: string }) => passwordReset.complete(args.token, args.password) });

  useEffect(() => {
    if (window.location.hash === '') return;
    // Keeps React Router's history state; only the fragment goes.
    window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
  }, []);

  const tooShort = password.length < MIN_LENGTH;
  const mismatch = confirm !== password;
  const passwordError = checked && tooShort ? `Use at least ${MIN_LENGTH} characters` : undefined;
  const confirmError = confirm !== '' && mismatch ? 'The two passwords differ' : checked && confirm === '' ? 'Type the new password again' : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    // The first field to fix gets the focus; its error is announced through aria-describedby.
    if (tooShort) passwordRef.current?.focus();
    else if (mismatch) confirmRef.current?.focus();
    else if (token) reset.mutate({ token, password });
  };

  // A dead link (used, expired, replaced, or the account disabled) cannot be retried: only a new one helps.
  const deadLink = reset.error instanceof ApiError && reset.error.code === 'invalid_grant';

  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" radius="lg" p="xl" w="100%" maw={400}>
        <Stack>
          <Stack gap={4} align="center">
            <img src="/favicon.svg" width={40} height={40} alt="" />
            <Title order={1} size="h2" ta="center">
              Set a new password
            </Title>
            <Text c="dimmed" size="sm">
              Agent Identity Management
            </Text>
          </Stack>
          {reset.isSuccess ? (
            <>
              <Alert color="green" variant="light" title="Password changed" role="status">
                Password changed for <strong>{reset.data.email}</strong>. Sign in with your new password.
              </Alert>
              <Button component={Link} to="/login" fullWidth>
                Go to sign in
              </Button>
            </>
          ) : !token ? (
            <>
              <Alert color="yellow" variant="light" title="No reset link" role="status">
                This page needs the link an admin gave you; ask them for a new one.
              </Alert>
              <Button component={Link} to="/login" variant="default" fullWidth>
                Go to sign in
              </Button>
            </>
          ) : deadLink ? (
            <>
              <ErrorNotice error={reset.error} title="This link does not work" />
              <Text size="sm">A link works once, for a limited time, and a newer link cancels it. An admin of your organization can make you a new one on the Users page.</Text>
              <Button component={Link} to="/login" variant="default" fullWidth>
                Go to sign in
              </Button>
            </>
          ) : (
            <form onSubmit={submit} aria-label="Set a new password" noValidate>
              <Stack>
                <ErrorNotice error={reset.error} title="Password not changed" />
                <PasswordInput
                  ref={passwordRef}
                  label="New password"
                  description={`At least ${MIN_LENGTH} characters, not a common one: a few unrelated words work well`}
                  autoComplete="new-password"
                  required
                  autoFocus
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  error={passwordError}
                  // Mantine's PasswordInput marks the error only by style and aria-describedby.
                  aria-invalid={passwordError ? true : undefined}
                />
                <PasswordInput
                  ref={confirmRef}
                  label="Confirm new password"
                  autoComplete="new-password"
                  required
                  value={confirm}
                  onChange={(e) => setConfirm(e.currentTarget.value)}
                  error={confirmError}
                  aria-invalid={confirmError ? true : undefined}
                />
                <Button type="submit" loading={reset.isPending} fullWidth>
                  Set new password
                </Button>
              </Stack>
            </form>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
