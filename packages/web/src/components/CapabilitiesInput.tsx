import { List, Stack, TagsInput, Text } from '@mantine/core';
import { describeCapability, invalidCapabilities } from '../lib/capabilities.js';

const HELP =
  'Exact names (search), namespaces (files:* covers files:read) or * for everything; add @ and a resource to limit where: ' +
  'files:read@/reports/* (starting with /reports/) or payments:send@acct-42 (that one only). Press Enter after each.';

/**
 * The capabilities editor of the register and agent pages. Splits on commas and Enter only: a resource constraint
 * may contain spaces. Constrained capabilities are spelled out below, so a reviewer sees what they allow.
 */
export function CapabilitiesInput(props: { value: string[]; onChange: (value: string[]) => void; disabled?: boolean; label?: string; placeholder?: string }) {
  const invalid = invalidCapabilities(props.value);
  const constrained = props.value.filter((c) => c.includes('@') && !invalid.includes(c));
  return (
    <Stack gap={4}>
      <TagsInput
        {...(props.label ? { label: props.label } : { 'aria-label': 'Capabilities' })}
        description={HELP}
        value={props.value}
        onChange={props.onChange}
        disabled={props.disabled ?? false}
        placeholder={props.placeholder}
        splitChars={[',']}
        error={invalid.length > 0 ? `Not a valid capability: ${invalid.join(', ')}` : undefined}
      />
      {constrained.length > 0 && (
        <List size="xs" c="dimmed" aria-label="Resource constraints">
          {constrained.map((c) => (
            <List.Item key={c}>
              <Text size="xs" span>
                {describeCapability(c)}
              </Text>
            </List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}
