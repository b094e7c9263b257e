import { useLayoutEffect } from 'react';

/** Each page names itself in the tab and to screen readers (WCAG 2.4.2): a single-page app otherwise keeps one title. */
export function usePageTitle(title: string): void {
  // A layout effect: the title changes in the same task as the page, never a frame behind it.
  useLayoutEffect(() => {
    document.title = `${title} · AIM`;
  }, [title]);
}
