import { Paper, Table, type TableProps } from '@mantine/core';
import type { ReactNode } from 'react';
import { useNarrow } from '../lib/useNarrow.js';

/**
 * A page's main list in a bordered table. On a wide screen it scrolls sideways below `minWidth`; on a phone it fits
 * the screen instead and its `visibleFrom="sm"` columns go. `head` holds the header cells, `footer` stands under
 * the table inside the border; the other props go to the Table.
 */
export function ListTable({ minWidth, head, footer, children, ...table }: TableProps & { minWidth: number; head: ReactNode; footer?: ReactNode }) {
  const narrow = useNarrow();
  return (
    <Paper withBorder radius="md">
      <Table.ScrollContainer minWidth={narrow ? 0 : minWidth}>
        <Table {...table}>
          <Table.Thead>
            <Table.Tr>{head}</Table.Tr>
          </Table.Thead>
          <Table.Tbody>{children}</Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {footer}
    </Paper>
  );
}
