import { useCallback, useEffect, useRef, useState, type RefObject } from 'react';

/** Selects what `element` shows and puts the focus on it, so Ctrl+C (⌘C) copies it. */
function selectForCopy(element: HTMLElement | null): void {
  if (!element) return;
  element.focus();
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}

/**
 * Copies `value` with the Clipboard API. The API is missing on plain HTTP away from localhost, and a browser may
 * refuse it: then `failed` is set and the text in `target` is selected for a copy by hand, never a silent no-op.
 */
export function useCopy(value: string, target: RefObject<HTMLElement | null>): { copy: () => void; copied: boolean; failed: boolean } {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const copy = useCallback(() => {
    const done = () => {
      setState('copied');
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setState('idle'), 2_000);
    };
    const fail = () => {
      setState('failed');
      selectForCopy(target.current);
    };
    // `navigator.clipboard` is typed as always there; outside a secure context it is not.
    const clipboard = (navigator as Partial<Navigator>).clipboard;
    if (!clipboard) return fail();
    clipboard.writeText(value).then(done, fail);
  }, [value, target]);
  return { copy, copied: state === 'copied', failed: state === 'failed' };
}
