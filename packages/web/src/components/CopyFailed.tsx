import { Alert } from '@mantine/core';

/** Shown when useCopy could not reach the clipboard: the value is selected, the person copies it. */
export function CopyFailed() {
  return (
    <Alert color="orange" variant="light" title="This browser could not copy" role="alert">
      The clipboard is not available here (it needs HTTPS, or localhost). The text above is selected: copy it by hand with Ctrl+C (⌘C on a Mac), or select it again and copy it.
    </Alert>
  );
}
