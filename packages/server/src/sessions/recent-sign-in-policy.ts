import type { PrincipalPolicy } from '../http/authenticate.js';

/**
 * Routes marked `recentSignIn` mint credentials that outlive a session (SDK tokens, API keys, an agent's key) or take
 * over another account (new users, roles, password resets, 2FA resets). A person's access token may take them only
 * within AIM_REAUTH_WINDOW of proving the password (`auth_time`), so a token lifted from a browser cannot turn itself
 * into lasting access. API keys hold no sign-in: their own scopes bound them, and none of them is a person's session.
 */
export function recentSignInPolicy(sessions: { requireRecentAuthTime(authTime: number | undefined): void }): PrincipalPolicy {
  return (principal, _request, access) => {
    if (access.recentSignIn && principal.method === 'jwt') sessions.requireRecentAuthTime(principal.authTime);
  };
}
