import { useEffect } from 'react';

/** Each page names itself in the tab and to screen readers (WCAG 2.4.2): a single-page app otherwise keeps one title. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · AIM`;
  }, [title]);
}
