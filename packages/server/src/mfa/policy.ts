import { AimError } from '../core/errors.js';
import type { UserId } from '../core/ids.js';
import type { PrincipalPolicy } from '../http/authenticate.js';

/**
 * AIM_REQUIRE_ADMIN_MFA: a route that needs the `admin` scope answers 403 `mfa_enrollment_required` to a person
 * (or a credential of a person: SDK token, API key) without 2FA. Enrolment, `/auth/me`, refresh and logout need no
 * admin scope, so an admin can always enrol. Checked per request, so enrolling takes effect at once.
 */
export function adminMfaPolicy(mfa: { isEnrolled(userId: UserId): Promise<boolean> }): PrincipalPolicy {
  return async (principal, _request, access) => {
    if (access.scope !== 'admin' || !principal.userId) return;
    if (!(await mfa.isEnrolled(principal.userId as UserId))) {
      throw new AimError('mfa_enrollment_required', 'turn on two-factor authentication (POST /api/v1/auth/mfa/totp/setup) to use admin endpoints');
    }
  };
}
