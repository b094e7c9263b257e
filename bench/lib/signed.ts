import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/** A supply of one-time request bodies, made before the load so signing does not compete with the server for CPU. */
export class Supply {
  private index = 0;
  constructor(
    private readonly items: string[],
    private readonly make: () => string,
  ) {}

  next(): string {
    return this.index < this.items.length ? this.items[this.index++]! : this.make();
  }
}

/** verify-action bodies: Ed25519 over `{agent_id}:{action}:{resource}:{timestamp}:{nonce}`, each nonce fresh. */
export function signedActions(agentId: string, privateKey: KeyObject, count: number): Supply {
  const make = () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const nonce = randomBytes(16).toString('base64');
    const action = 'files:read';
    const resource = '/data/report.csv';
    const signature = sign(null, Buffer.from(`${agentId}:${action}:${resource}:${timestamp}:${nonce}`), privateKey).toString('base64');
    return JSON.stringify({ action, resource, timestamp, nonce, signature });
  };
  return new Supply(Array.from({ length: count }, make), make);
}

/** RFC 7523 client assertions, each with a fresh jti, as form bodies for the client_credentials grant. */
export async function clientAssertions(
  options: { issuer: string; audience: string; privateKey: KeyObject; extra?: Record<string, string> },
  count: number,
): Promise<Supply> {
  const make = async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setIssuer(options.issuer)
      .setSubject(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 240)
      .sign(options.privateKey);
    return new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      ...options.extra,
    }).toString();
  };
  const items = await Promise.all(Array.from({ length: count }, make));
  // Past the pre-made supply a request goes out with an already-used assertion and counts as an error.
  return new Supply(items, () => items[0]!);
}

/**
 * Rotating refresh tokens shared by all connections: a request takes one, its answer gives back the next.
 * A failed request loses its token, so the pool starts larger than the number of connections.
 */
export class TokenPool {
  constructor(private readonly free: string[]) {}

  take(): string {
    return this.free.pop() ?? 'exhausted.exhausted';
  }

  giveBack(body: string): void {
    try {
      const token = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
      if (typeof token === 'string') this.free.push(token);
    } catch {
      // An error answer carries no token.
    }
  }
}
