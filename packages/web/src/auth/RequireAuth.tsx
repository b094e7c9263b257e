import { Alert, Button, Center, Loader, Stack, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { signedOutByChoice } from '../api/session.js';
import { useAuth } from './AuthProvider.js';

/** The session could not be checked because the server did not answer: say so, keep the place, let them retry. */
function ServerUnavailable({ retry }: { retry: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const again = () => {
    setBusy(true);
    void retry().finally(() => setBusy(false));
  };
  return (
    <Center h="100vh" p="md">
      <Stack maw={420}>
        <Alert role="alert" color="yellow" title="Cannot reach AIM right now">
          <Text size="sm">Your session is kept. This page keeps trying by itself.</Text>
        </Alert>
        <Button onClick={again} loading={busy}>
          Try again
        </Button>
      </Stack>
    </Center>
  );
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const { status, retry } = useAuth();
  const location = useLocation();
  if (status === 'unavailable') return <ServerUnavailable retry={retry} />;
  if (status === 'loading') {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading your session" />
      </Center>
    );
  }
  if (status === 'signed-out') {
    const next = location.pathname + location.search;
    return <Navigate to={next === '/' || signedOutByChoice() ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}
