import { useCallback, useRef } from 'react';

/**
 * A dialog opened from a menu item cannot hand the focus back to that item: the menu is gone by the time the dialog
 * closes, and the focus fell to the start of the page (WCAG 2.4.3). The menu's button is remembered when the menu
 * opens; `restore` (after a dialog has closed) puts the focus back on it, unless the focus already went somewhere.
 */
export function useMenuTrigger(): { remember: () => void; restore: () => void } {
  const trigger = useRef<HTMLElement | null>(null);
  const remember = useCallback(() => {
    trigger.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  }, []);
  const restore = useCallback(() => {
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (lost && trigger.current?.isConnected) trigger.current.focus();
  }, []);
  return { remember, restore };
}
