import { Type } from 'typebox';
import { AimError } from '../core/errors.js';
import type { UserId } from '../core/ids.js';
import { authed } from '../http/handler.js';
import type { Principal } from '../http/principal.js';
import type { MfaService } from './service.js';

const tags = ['two-factor authentication'];

/** A TOTP code (6 digits) or a recovery code (`abcd-efgh-ijkl-mnop`, any case, dashes optional). */
const Code = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });

/** Optional on setup and enable: needed when the sign-in behind the token is older than AIM_REAUTH_WINDOW. */
const password = Type.Optional(
  Type.String({ minLength: 1, maxLength: 1024, description: 'your password, when the sign-in is older than AIM_REAUTH_WINDOW (else 403 reauthentication_required)' }),
);

function userOf(principal: Principal): UserId {
  if (!principal.userId) throw new AimError('forbidden', 'only people have a second factor');
  return principal.userId as UserId;
}

export function mfaHandlers(mfa: MfaService) {
  return {
    setup: authed(
      {
        summary: 'Start TOTP enrolment: a new secret and otpauth:// URL, pending until enabled with a code',
        tags,
        // Setup took no body before it took a password: a request without one is still valid.
        body: Type.Object({ password }),
        optionalBody: true,
        response: { 200: Type.Object({ secret: Type.String(), otpauth_url: Type.String() }) },
      },
      async ({ principal, body, ip }) => {
        const setup = await mfa.setup(userOf(principal), { authTime: principal.authTime, password: body.password }, { ip });
        return { secret: setup.secret, otpauth_url: setup.otpauthUrl };
      },
    ),

    enable: authed(
      {
        summary: 'Turn TOTP on with a code from the authenticator; answers ten recovery codes, shown only this once',
        tags,
        body: Type.Object({ code: Code.properties.code, password }),
        response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String()) }) },
      },
      async ({ principal, body, ip }) => ({
        recovery_codes: await mfa.enable(userOf(principal), body.code, { authTime: principal.authTime, password: body.password }, { ip }),
      }),
    ),

    disable: authed(
      {
        summary: 'Turn TOTP off with a current TOTP code or an unused recovery code',
        tags,
        body: Code,
        response: { 200: Type.Object({ mfa_enabled: Type.Boolean() }) },
      },
      async ({ principal, body, ip }) => {
        await mfa.disable(userOf(principal), body.code, { ip });
        return { mfa_enabled: false };
      },
    ),

    regenerateRecoveryCodes: authed(
      {
        summary: 'Replace your recovery codes with ten new ones (shown only this once), given a current TOTP code; the old ones stop working',
        tags,
        body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64, description: 'a current TOTP code (6 digits)' }) }),
        response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String()) }) },
      },
      async ({ principal, body, ip }) => ({ recovery_codes: await mfa.regenerateRecoveryCodes(userOf(principal), body.code, { ip }) }),
    ),
  };
}
