import { Badge, Group } from '@mantine/core';

/** The scopes a credential holds, as written (`agents:read`, not "Agents Read"). */
export function ScopeBadges({ scopes }: { scopes: readonly string[] }) {
  return (
    <Group gap={4}>
      {scopes.map((s) => (
        <Badge key={s} variant="outline" color="gray" radius="sm" tt="none">
          {s}
        </Badge>
      ))}
    </Group>
  );
}
