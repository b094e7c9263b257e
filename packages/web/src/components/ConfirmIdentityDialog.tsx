import { Button, Group, Modal, PasswordInput, Stack, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { onReauthenticationNeeded } from '../api/reauth.js';
import { reauthenticate } from '../api/session.js';
import { ErrorNotice } from './ErrorNotice.js';

/**
 * "Confirm it is you": shown when a step needs a recent sign-in (API keys, people, 2FA) and the session's is older
 * than the server's window. The password goes to the server once and is dropped from state at once; the step that
 * asked goes on by itself when it was right, and fails as it would have when the person cancels.
 */
export function ConfirmIdentityDialog() {
  const [opened, setOpened] = useState(false);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const answer = useRef<((confirmed: boolean) => void) | null>(null);

  useEffect(
    () =>
      onReauthenticationNeeded(
        () =>
          new Promise<boolean>((resolve) => {
            answer.current = resolve;
            setError(null);
            setOpened(true);
          }),
      ),
    [],
  );

  const finish = (confirmed: boolean) => {
    setPassword('');
    setOpened(false);
    answer.current?.(confirmed);
    answer.current = null;
  };

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await reauthenticate(password);
      finish(true);
    } catch (failure) {
      setPassword('');
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    // Above any other dialog: the step asking for it is often in one (Create an API key), whose portal came later.
    <Modal opened={opened} onClose={() => finish(false)} title="Confirm it is you" centered zIndex={400}>
      <form
        aria-label="Confirm your password"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack>
          <Text size="sm">You signed in a while ago. Enter your password to go on: this step creates access that lasts, or changes someone&apos;s account.</Text>
          <PasswordInput
            label="Your password"
            autoComplete="current-password"
            required
            data-autofocus
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          <ErrorNotice error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => finish(false)}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Continue
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
