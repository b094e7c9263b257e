import type { TokenKind } from './access-tokens.js';

/** The public client (RFC 6749 §2.1) SDK refresh tokens are used with. */
export const SDK_CLIENT_ID = 'aim-sdk';
/** The first-party client of password sign-ins and the web UI's sessions. */
export const WEB_CLIENT_ID = 'aim-web';

/** RFC 9068 §2.2: every access token names the client it was issued to; an agent is a client named by its id. */
export function clientIdOf(kind: TokenKind, sub: string): string {
  if (kind === 'agent') return sub;
  return kind === 'sdk' ? SDK_CLIENT_ID : WEB_CLIENT_ID;
}
