import { useCallback, useRef } from 'react';

/**
 * A dialog opened from a menu item cannot hand the focus back to that item: the menu is gone by the time the dialog
 * closes, and the focus fell to the start of the page (WCAG 2.4.3). The menu's button is remembered when the menu
 * opens; `restore` (as a dialog finishes closing) puts the focus back on it, unless the focus already went somewhere.
 */
export function useMenuTrigger(): { remember: () => void; restore: () => void } {
  const trigger = useRef<HTMLElement | null>(null);
  const remember = useCallback(() => {
    trigger.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  }, []);
  const restore = useCallback(() => {
    const active = document.activeElement;
    // Called as a dialog finishes closing, while it is still in the page: the focus may still sit on its button.
    // A second dialog means another one opened (a rotated key's secret) and has the focus; leave it there.
    const inClosingDialog = active?.closest('[role="dialog"]') != null && document.querySelectorAll('[role="dialog"]').length <= 1;
    const lost = active === null || active === document.body || inClosingDialog;
    if (lost && trigger.current?.isConnected) trigger.current.focus();
  }, []);
  return { remember, restore };
}
