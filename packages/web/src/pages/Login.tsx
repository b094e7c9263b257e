import { Anchor, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/errors.js';
import { useAuth } from '../auth/AuthProvider.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { usePageTitle } from '../lib/usePageTitle.js';

/**
 * Where `?next=` may send someone after sign-in: a page of this app only. Parsed as the browser would, because
 * `/\other.site` starts with one slash yet names another site; the router refuses to go there and the app went blank.
 */
function pageToReturnTo(next: string | null): string {
  if (!next?.startsWith('/')) return '/';
  try {
    const url = new URL(next, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search + url.hash : '/';
  } catch {
    return '/';
  }
}

/** Password first; an account with 2FA then asks for an authenticator or recovery code (401 mfa_required). */
export function LoginPage() {
  const { status, login } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  usePageTitle('Sign in');

  const target = pageToReturnTo(params.get('next'));
  if (status === 'signed-in') return <Navigate to={target} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email, password, needsCode ? code.trim() : undefined);
      void navigate(target, { replace: true });
    } catch (failure) {
      if (failure instanceof ApiError && failure.code === 'mfa_required') setNeedsCode(true);
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md" bg="gray.0">
      <Paper withBorder shadow="sm" radius="lg" p="xl" w="100%" maw={400}>
        <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
          <Stack>
            <Stack gap={4} align="center">
              <img src="/favicon.svg" width={40} height={40} alt="" />
              <Title order={1} size="h2">Sign in to AIM</Title>
              <Text c="dimmed" size="sm">
                {needsCode ? 'Enter the 6-digit code from your authenticator app.' : 'Agent Identity Management'}
              </Text>
            </Stack>
            <ErrorNotice error={error} title="Could not sign in" />
            {!needsCode ? (
              <>
                <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} data-autofocus autoFocus />
                <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
              </>
            ) : (
              <TextInput
                label="Authentication code"
                description="Or one of your recovery codes"
                autoComplete="one-time-code"
                inputMode="text"
                required
                autoFocus
                value={code}
                onChange={(e) => setCode(e.currentTarget.value)}
              />
            )}
            <Button type="submit" loading={busy} fullWidth>
              {needsCode ? 'Verify' : 'Sign in'}
            </Button>
            {needsCode && (
              <Anchor
                component="button"
                type="button"
                size="sm"
                ta="center"
                onClick={() => {
                  setNeedsCode(false);
                  setCode('');
                  setError(null);
                }}
              >
                Use a different account
              </Anchor>
            )}
            {!needsCode && (
              <Text size="sm" c="dimmed" ta="center">
                Forgot your password? An admin of your organization can give you a reset link.
              </Text>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
