import { Badge } from '@mantine/core';

const COLORS: Record<string, string> = {
  active: 'green',
  allowed: 'green',
  verified: 'green',
  resolved: 'gray',
  grace: 'yellow',
  acknowledged: 'yellow',
  rotated: 'gray',
  retired: 'gray',
  expired: 'gray',
  suspended: 'orange',
  open: 'red',
  denied: 'red',
  rejected: 'red',
  revoked: 'red',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    // The label never truncates: a table column gives it its full width even on a phone.
    <Badge color={COLORS[status] ?? 'blue'} variant="light" radius="sm" styles={{ root: { flexShrink: 0 }, label: { overflow: 'visible' } }}>
      {status.replace(/_/g, ' ')}
    </Badge>
  );
}
