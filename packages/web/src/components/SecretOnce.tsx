import { Alert, Button, Code, CopyButton, Group, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A secret the server returns once (an API key, an SDK token, a password reset link): copy it now, it cannot be
 * shown again. `warning` and `note` replace the API-key wording for secrets that are handed over rather than stored.
 */
export function SecretOnce({ label, value, warning, note }: { label: string; value: string; warning?: ReactNode; note?: ReactNode }) {
  return (
    <Stack gap="sm">
      <Alert color="yellow" variant="light" title="Copy it now" role="status">
        {warning ?? <>This is the only time {label} is shown. AIM stores only a hash of it; if it is lost, rotate or create a new one.</>}
      </Alert>
      <Code block data-testid="secret-value" style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>
        {value}
      </Code>
      <Group justify="flex-end">
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button onClick={copy} color={copied ? 'teal' : 'indigo'} variant={copied ? 'light' : 'filled'}>
              {copied ? 'Copied' : 'Copy to clipboard'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Text size="xs" c="dimmed">
        {note ?? 'Store it in a secret manager, never in source control.'}
      </Text>
    </Stack>
  );
}
