import { Badge } from '@mantine/core';
import type { ReactNode } from 'react';

/** Beside a status: something that still works but wants replacing soon ("rotation due", "expiring soon"). */
export function DueBadge({ children }: { children: ReactNode }) {
  return (
    <Badge color="yellow" variant="light" size="sm">
      {children}
    </Badge>
  );
}
