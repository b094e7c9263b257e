import { Alert, Badge, Button, Checkbox, Code, Group, Image, Paper, PasswordInput, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { auth } from '../api/endpoints.js';
import { CopyFailed } from '../components/CopyFailed.js';
import { ErrorNotice } from '../components/ErrorNotice.js';
import { PageHeader } from '../components/PageHeader.js';
import { SessionsSection } from './SettingsSessions.js';
import { downloadFile } from '../lib/download.js';
import { useCopy } from '../lib/useCopy.js';

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [revokeSdkTokens, setRevokeSdkTokens] = useState(false);
  const change = useMutation({
    mutationFn: () => auth.changePassword(current, next, revokeSdkTokens),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setConfirm('');
      setRevokeSdkTokens(false);
    },
  });
  const mismatch = confirm !== '' && confirm !== next;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!mismatch) change.mutate();
  };
  return (
    <Paper withBorder radius="md" p="lg">
      <Title order={2} size="h4" mb="sm">
        Password
      </Title>
      <form onSubmit={submit} aria-label="Change password">
        <Stack>
          <ErrorNotice error={change.error} title="Password not changed" />
          {change.isSuccess && (
            <Alert color="green" variant="light" role="status">
              Password changed. {change.data.sessions_revoked > 0 ? `${change.data.sessions_revoked} other session(s) were signed out. ` : ''}
              {change.data.sdk_tokens_revoked > 0 ? `${change.data.sdk_tokens_revoked} SDK token(s) were revoked.` : ''}
            </Alert>
          )}
          <PasswordInput label="Current password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.currentTarget.value)} />
          <PasswordInput label="New password" description="At least 12 characters, not a common one: a few unrelated words work well" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.currentTarget.value)} />
          <PasswordInput
            label="Repeat the new password"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
            error={mismatch ? 'The two passwords differ' : undefined}
          />
          <Checkbox
            label="Also revoke my SDK tokens"
            description="If you think your password was stolen: tokens made with it stop working. Scripts using them need new ones."
            checked={revokeSdkTokens}
            onChange={(e) => setRevokeSdkTokens(e.currentTarget.checked)}
          />
          <Group justify="flex-end">
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const text = codes.join('\n');
  const shown = useRef<HTMLDivElement>(null);
  const { copy, copied, failed } = useCopy(text, shown);
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" title="Save your recovery codes" role="status">
        Each code signs you in once if you lose your authenticator. They are shown only now.
      </Alert>
      <SimpleGrid ref={shown} tabIndex={-1} cols={2} spacing={6} data-testid="recovery-codes" style={{ userSelect: 'all' }}>
        {codes.map((c) => (
          <Code key={c} ta="center">
            {c}
          </Code>
        ))}
      </SimpleGrid>
      {failed && <CopyFailed />}
      <Group>
        <Button variant="light" onClick={copy}>
          {copied ? 'Copied' : 'Copy codes'}
        </Button>
        <Button variant="default" onClick={() => downloadFile('aim-recovery-codes.txt', `${text}\n`)}>
          Download
        </Button>
        <Button variant="subtle" onClick={onDone}>
          I have saved them
        </Button>
      </Group>
    </Stack>
  );
}

function TwoFactor() {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => auth.me() });
  const [setup, setSetup] = useState<{ secret: string; otpauth_url: string } | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);

  // The QR code is drawn here, from the otpauth URL; the secret never goes to a third-party service.
  useEffect(() => {
    if (!setup) return setQr(null);
    let live = true;
    void QRCode.toDataURL(setup.otpauth_url, { margin: 1, width: 200 }).then((url) => live && setQr(url));
    return () => {
      live = false;
    };
  }, [setup]);

  // Enrolling asks for a recent sign-in: past the server's window the confirmation dialog asks for the password.
  const start = useMutation({ mutationFn: () => auth.totpSetup(), onSuccess: setSetup });
  const enable = useMutation({
    mutationFn: () => auth.totpEnable(code.trim()),
    onSuccess: (answer) => {
      setCodes(answer.recovery_codes);
      setSetup(null);
      // The setup answer holds the TOTP secret: no need for it once the authenticator has it.
      start.reset();
      setCode('');
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const disable = useMutation({
    mutationFn: () => auth.totpDisable(code.trim()),
    // The two forms share one error notice: a new attempt clears the other form's old error.
    onMutate: (): void => {
      regenerate.reset();
    },
    onSuccess: () => {
      setCode('');
      setCodes(null);
      void queryClient.invalidateQueries({ queryKey: ['me'] });
    },
  });
  const [regenCode, setRegenCode] = useState('');
  const regenerate = useMutation({
    mutationFn: () => auth.regenerateRecoveryCodes(regenCode.trim()),
    onMutate: (): void => {
      disable.reset();
    },
    onSuccess: (answer) => {
      setCodes(answer.recovery_codes);
      setRegenCode('');
    },
  });
  const enabled = me.data?.mfa_enabled === true;

  return (
    <Paper withBorder radius="md" p="lg">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">Two-factor authentication</Title>
        {me.data && (
          <Badge color={enabled ? 'green' : 'gray'} variant="light" data-testid="mfa-status">
            {enabled ? 'on' : 'off'}
          </Badge>
        )}
      </Group>
      <Stack>
        <ErrorNotice error={[me.error, start.error, enable.error, disable.error, regenerate.error].find(Boolean)} />
        {codes && (
          <RecoveryCodes
            codes={codes}
            onDone={() => {
              // The mutations' answers hold the codes too.
              setCodes(null);
              enable.reset();
              regenerate.reset();
            }}
          />
        )}
        {enabled && !codes && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              disable.mutate();
            }}
            aria-label="Turn off two-factor authentication"
          >
            <Stack>
              <Text size="sm">Sign-ins ask for a code from your authenticator app. To turn this off, enter a current code or a recovery code.</Text>
              <TextInput label="Code" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.currentTarget.value)} />
              <Group justify="flex-end">
                <Button type="submit" color="red" variant="light" loading={disable.isPending}>
                  Turn off 2FA
                </Button>
              </Group>
            </Stack>
          </form>
        )}
        {enabled && !codes && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              regenerate.mutate();
            }}
            aria-label="Regenerate recovery codes"
          >
            <Stack>
              <Text size="sm">Lost your recovery codes, or used most of them? Get ten new ones with a current code from your authenticator; the old ones stop working.</Text>
              <TextInput
                label="Code from the app"
                autoComplete="one-time-code"
                inputMode="numeric"
                required
                value={regenCode}
                onChange={(e) => setRegenCode(e.currentTarget.value)}
                maw={220}
              />
              <Group justify="flex-end">
                <Button type="submit" variant="light" loading={regenerate.isPending}>
                  Regenerate recovery codes
                </Button>
              </Group>
            </Stack>
          </form>
        )}
        {!enabled && !setup && (
          <>
            <Text size="sm">Protect your account with a time-based code from an authenticator app (RFC 6238), asked for at every sign-in.</Text>
            <Group justify="flex-end">
              <Button loading={start.isPending} onClick={() => start.mutate()}>
                Set up 2FA
              </Button>
            </Group>
          </>
        )}
        {!enabled && setup && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              enable.mutate();
            }}
            aria-label="Turn on two-factor authentication"
          >
            <Stack>
              <Text size="sm">Scan this QR code with your authenticator app, or type the key by hand, then enter the 6-digit code it shows.</Text>
              <Group align="flex-start" gap="lg">
                {qr && <Image src={qr} alt="QR code for your authenticator app" w={180} h={180} radius="sm" />}
                <Stack gap={4} style={{ flex: 1, minWidth: 200 }}>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    Setup key
                  </Text>
                  <Code data-testid="totp-secret" style={{ wordBreak: 'break-all' }}>
                    {setup.secret}
                  </Code>
                </Stack>
              </Group>
              <TextInput label="Code from the app" autoComplete="one-time-code" inputMode="numeric" required value={code} onChange={(e) => setCode(e.currentTarget.value)} maw={220} />
              <Group justify="flex-end">
                <Button
                  variant="default"
                  onClick={() => {
                    setSetup(null);
                    start.reset();
                    // A refused code of this attempt is no news once it is abandoned.
                    enable.reset();
                    setCode('');
                  }}
                >
                  Cancel
                </Button>
                <Button type="submit" loading={enable.isPending}>
                  Turn on 2FA
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}

export function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="Your password, two-factor authentication and where you are signed in." />
      <Stack gap="lg">
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
          <PasswordForm />
          <TwoFactor />
        </SimpleGrid>
        <SessionsSection />
      </Stack>
    </>
  );
}
