import { Type } from 'typebox';
import { open } from '../http/handler.js';
import type { SigningKeyRing } from './signing-keys.js';

const Jwk = Type.Object({
  kty: Type.String(),
  crv: Type.String(),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.String(),
});

export function tokenHandlers(keys: SigningKeyRing) {
  return {
    jwks: open(
      {
        summary: 'Public keys that verify AIM access tokens (RFC 7517); rotated keys stay until their tokens expire',
        tags: ['oauth'],
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
      },
      async ({ reply }) => {
        reply.header('cache-control', 'public, max-age=300');
        return keys.jwks();
      },
    ),
  };
}
