import { Button, Menu, Table, VisuallyHidden } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A table row's actions, behind a button named after the row ("Actions for ci-deploy") so that a screen reader
 * tells the rows' buttons apart. `onOpen` is useMenuTrigger's `remember`: a dialog an item opens gives the focus
 * back to this button.
 */
export function ActionsMenu({ of, onOpen, children }: { of: string; onOpen: () => void; children: ReactNode }) {
  return (
    <Menu position="bottom-end" withinPortal onOpen={onOpen}>
      <Menu.Target>
        <Button size="compact-sm" variant="default" aria-label={`Actions for ${of}`}>
          Actions
        </Button>
      </Menu.Target>
      <Menu.Dropdown>{children}</Menu.Dropdown>
    </Menu>
  );
}

/** The header of the column of ActionsMenus: named for screen readers, blank on the screen. */
export function ActionsHeader() {
  return (
    <Table.Th>
      <VisuallyHidden>Actions</VisuallyHidden>
    </Table.Th>
  );
}
