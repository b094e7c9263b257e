import { List, Pill, PillsInput, Stack, Text } from '@mantine/core';
import { useRef, useState, type KeyboardEvent } from 'react';
import { describeCapability, invalidCapabilities } from '../lib/capabilities.js';

const HELP =
  'Exact names (search), namespaces (files:* covers files:read) or * for everything; add @ and a resource to limit where: ' +
  'files:read@/reports/* (starting with /reports/) or payments:send@acct-42 (that one only). Press Enter after each.';

/**
 * The capabilities editor of the register and agent pages. Splits on commas and Enter only: a resource constraint
 * may contain spaces. Constrained capabilities are spelled out below, so a reviewer sees what they allow.
 * Built from PillsInput rather than TagsInput: TagsInput's remove buttons are out of the Tab order and hidden from
 * screen readers, so only the last capability could be removed from the keyboard (WCAG 2.1.1).
 */
export function CapabilitiesInput(props: { value: string[]; onChange: (value: string[]) => void; disabled?: boolean; label?: string; placeholder?: string }) {
  const [typed, setTyped] = useState('');
  const field = useRef<HTMLInputElement>(null);
  const disabled = props.disabled ?? false;
  const invalid = invalidCapabilities(props.value);
  const constrained = props.value.filter((c) => c.includes('@') && !invalid.includes(c));

  const add = (text: string) => {
    const next = [...props.value];
    for (const item of text.split(',').map((c) => c.trim())) if (item && !next.includes(item)) next.push(item);
    if (next.length !== props.value.length) props.onChange(next);
    setTyped('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' && typed.trim()) {
      // Adds the capability instead of submitting the form around it.
      event.preventDefault();
      add(typed);
    } else if (event.key === 'Backspace' && typed === '' && props.value.length > 0) {
      props.onChange(props.value.slice(0, -1));
    }
  };

  return (
    <Stack gap={4}>
      <PillsInput label={props.label} description={HELP} disabled={disabled} error={invalid.length > 0 ? `Not a valid capability: ${invalid.join(', ')}` : undefined}>
        <Pill.Group>
          {props.value.map((c) => (
            <Pill
              key={c}
              withRemoveButton={!disabled}
              onRemove={() => {
                props.onChange(props.value.filter((v) => v !== c));
                // The pressed button is gone: the keyboard carries on from the field, not from the top of the page.
                field.current?.focus();
              }}
              removeButtonProps={{ tabIndex: 0, 'aria-hidden': false, 'aria-label': `Remove ${c}` }}
            >
              {c}
            </Pill>
          ))}
          <PillsInput.Field
            ref={field}
            {...(props.label ? {} : { 'aria-label': 'Capabilities' })}
            value={typed}
            placeholder={props.placeholder}
            onChange={(e) => {
              const text = e.currentTarget.value;
              // A comma (typed or pasted) ends a capability.
              if (text.includes(',')) add(text);
              else setTyped(text);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => typed.trim() && add(typed)}
          />
        </Pill.Group>
      </PillsInput>
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
