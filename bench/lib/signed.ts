import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';

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
export function clientAssertions(
  options: { issuer: string; audience: string; privateKey: KeyObject; extra?: Record<string, string> },
  count: number,
): Supply {
  // Signed with node:crypto one after another: jose's sign goes through WebCrypto, a thread-pool job each, and a
  // few thousand of those at once once stalled a smoke run for good.
  const header = base64url({ alg: 'EdDSA' });
  const make = () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { jti: randomUUID(), iss: options.issuer, sub: options.issuer, aud: options.audience, iat: now, exp: now + 240 };
    const input = `${header}.${base64url(claims)}`;
    const jwt = `${input}.${sign(null, Buffer.from(input), options.privateKey).toString('base64url')}`;
    return new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
      ...options.extra,
    }).toString();
  };
  const items = Array.from({ length: count }, make);
  // Past the pre-made supply a request goes out with an already-used assertion and counts as an error.
  return new Supply(items, () => items[0]!);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

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
