import { Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** `focusable`: a script may move the focus here (tabIndex -1) when what had it went away. */
export function EmptyState({ title, children, action, focusable }: { title: string; children?: ReactNode; action?: ReactNode; focusable?: boolean }) {
  return (
    <Paper withBorder radius="md" p="xl" data-testid="empty-state" {...(focusable && { tabIndex: -1 })}>
      <Stack align="center" gap="xs" ta="center">
        <Title order={2} size="h4">{title}</Title>
        {children && (
          <Text c="dimmed" size="sm" maw={460}>
            {children}
          </Text>
        )}
        {action}
      </Stack>
    </Paper>
  );
}
