import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorNotice } from './ErrorNotice.js';

/** Asks before an action that cannot be undone (revoke, rotate). */
export function ConfirmModal(props: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  color?: string;
  busy?: boolean;
  error?: unknown;
  onConfirm: () => void;
  onClose: () => void;
  /** Once it has faded out: where the focus goes when what opened it is gone. */
  onClosed?: () => void;
}) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.title} centered {...(props.onClosed && { onExitTransitionEnd: props.onClosed })}>
      <Stack>
        <Text size="sm" component="div">
          {props.children}
        </Text>
        <ErrorNotice error={props.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          <Button color={props.color ?? 'red'} loading={props.busy ?? false} onClick={props.onConfirm} data-autofocus>
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
