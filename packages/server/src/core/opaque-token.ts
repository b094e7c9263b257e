import { isUuid } from './ids.js';

/**
 * Opaque bearer secrets shaped `<prefix><row id>.<secret>`: the id finds the row, only SHA-256 of the secret is
 * stored, and the prefix lets secret scanners recognise a leaked one. The secret is 32 random bytes, base64url.
 */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface OpaqueToken {
  id: string;
  secret: string;
}

export function opaqueToken(prefix: string) {
  return {
    format: (id: string, secret: string): string => `${prefix}${id}.${secret}`,
    parse(token: string): OpaqueToken | undefined {
      if (!token.startsWith(prefix)) return undefined;
      const [id, secret, ...rest] = token.slice(prefix.length).split('.');
      if (rest.length > 0 || !id || !secret || !isUuid(id) || !SECRET.test(secret)) return undefined;
      return { id, secret };
    },
  };
}
