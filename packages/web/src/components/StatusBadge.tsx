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
    <Badge color={COLORS[status] ?? 'blue'} variant="light" radius="sm">
      {status.replace(/_/g, ' ')}
    </Badge>
  );
}
