import { useMediaQuery } from '@mantine/hooks';

/** Below Mantine's `sm` breakpoint (48em, phones): tables drop secondary columns instead of scrolling sideways. */
export function useNarrow(): boolean {
  return useMediaQuery('(max-width: 48em)') ?? false;
}
