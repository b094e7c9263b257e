import { isUuid } from '../core/ids.js';

/**
 * Password reset tokens are opaque: `pr_<reset id>.<secret>`, like refresh tokens. The id finds the row; only
 * SHA-256 of the secret is stored. The prefix lets secret scanners recognise a leaked link.
 */
const PREFIX = 'pr_';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedResetToken {
  id: string;
  secret: string;
}

export function formatResetToken(id: string, secret: string): string {
  return `${PREFIX}${id}.${secret}`;
}

export function parseResetToken(token: string): ParsedResetToken | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const [id, secret, ...rest] = token.slice(PREFIX.length).split('.');
  if (rest.length > 0 || !id || !secret || !isUuid(id) || !SECRET.test(secret)) return undefined;
  return { id, secret };
}

/**
 * The web UI's page for a token. The token travels in the fragment, which browsers never send to a server nor put
 * in a Referer, so it stays out of access logs and proxies.
 */
export function resetUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/reset-password#token=${token}`;
}
