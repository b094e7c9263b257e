import { Alert } from '@mantine/core';
import { describeError } from '../api/errors.js';

/** A failed call, in the API's own words (`error_description`). */
export function ErrorNotice({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      {describeError(error)}
    </Alert>
  );
}
