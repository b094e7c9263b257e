import { isUuid } from '../core/ids.js';

/**
 * Refresh tokens are opaque: `rt_<token id>.<secret>`. The id finds the row; only SHA-256 of the secret is stored.
 * The prefix lets secret scanners recognise a leaked token.
 */
const PREFIX = 'rt_';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedRefreshToken {
  id: string;
  secret: string;
}

export function formatRefreshToken(id: string, secret: string): string {
  return `${PREFIX}${id}.${secret}`;
}

export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const [id, secret, ...rest] = token.slice(PREFIX.length).split('.');
  if (rest.length > 0 || !id || !secret || !isUuid(id) || !SECRET.test(secret)) return undefined;
  return { id, secret };
}
