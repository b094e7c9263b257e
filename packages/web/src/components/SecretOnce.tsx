import { Alert, Button, Code, Group, Stack, Text } from '@mantine/core';
import { useRef, type ReactNode } from 'react';
import { useCopy } from '../lib/useCopy.js';
import { CopyFailed } from './CopyFailed.js';

/** One click (or the copy fallback) selects the whole value, not a word of it. */
const SELECT_ALL = { wordBreak: 'break-all', whiteSpace: 'pre-wrap', userSelect: 'all' } as const;

/**
 * A secret the server returns once (an API key, an SDK token, a password reset link): copy it now, it cannot be
 * shown again. `warning` and `note` replace the API-key wording for secrets that are handed over rather than stored.
 */
export function SecretOnce({ label, value, warning, note }: { label: string; value: string; warning?: ReactNode; note?: ReactNode }) {
  const shown = useRef<HTMLPreElement>(null);
  const { copy, copied, failed } = useCopy(value, shown);
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" title="Copy it now" role="status">
        {warning ?? <>This is the only time {label} is shown. AIM stores only a hash of it; if it is lost, rotate or create a new one.</>}
      </Alert>
      <Code block ref={shown} tabIndex={-1} data-testid="secret-value" style={SELECT_ALL}>
        {value}
      </Code>
      {failed && <CopyFailed />}
      <Group justify="flex-end">
        <Button onClick={copy} color={copied ? 'teal' : 'indigo'} variant={copied ? 'light' : 'filled'}>
          {copied ? 'Copied' : 'Copy to clipboard'}
        </Button>
      </Group>
      <Text size="xs" c="dimmed">
        {note ?? 'Store it in a secret manager, never in source control.'}
      </Text>
    </Stack>
  );
}
