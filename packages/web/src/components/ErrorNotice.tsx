import { Alert, Anchor } from '@mantine/core';
import { Link } from 'react-router';
import { ApiError, describeError } from '../api/errors.js';

/** A failed call, in the API's own words (`error_description`). */
export function ErrorNotice({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  // AIM_REQUIRE_ADMIN_MFA: the way out is on the settings page.
  const enrol = error instanceof ApiError && error.code === 'mfa_enrollment_required';
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      {describeError(error)}
      {enrol && (
        <>
          {' '}
          <Anchor component={Link} to="/settings" size="sm">
            Set up two-factor authentication
          </Anchor>
        </>
      )}
    </Alert>
  );
}
