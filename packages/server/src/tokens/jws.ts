import { sign, verify, type KeyObject } from 'node:crypto';

/**
 * Compact JWS with EdDSA (Ed25519) on node:crypto, for the token hot paths. jose 6 signs and verifies through
 * WebCrypto, which runs each operation as a thread-pool job: at full load that cost eight times the CPU of
 * node:crypto's synchronous sign and twice its verify, and left requests queueing for the pool. The checks below
 * are jose's jwtVerify checks (RFC 7515 §5.2, RFC 7519 §7.2, RFC 8725) for the one algorithm AIM uses.
 */

export class JwtError extends Error {
  constructor(
    message: string,
    /** The token's exp has passed (RFC 7519 §4.1.4): callers say "expired" rather than "not valid". */
    readonly expired = false,
    /** The signature did not verify with the key: someone signed with another key (or none of ours). */
    readonly badSignature = false,
  ) {
    super(message);
  }
}

export type JwtHeader = Record<string, unknown> & { alg: string; kid?: string; typ?: string };
export type JwtPayload = Record<string, unknown>;

const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Ed25519 signatures are 64 bytes: 86 base64url characters. */
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** Signs `payload` as a compact JWS; `header.alg` is always EdDSA. */
export function signEdDsaJwt(header: Record<string, unknown>, payload: JwtPayload, privateKey: KeyObject): string {
  const input = `${encode({ ...header, alg: 'EdDSA' })}.${encode(payload)}`;
  return `${input}.${sign(null, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
}

function decodeObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Splits a compact JWS and decodes its header, without checking anything else. */
export function decodeHeader(token: string): JwtHeader {
  const parts = token.split('.');
  if (parts.length !== 3 || !SEGMENT.test(parts[0]!)) throw new JwtError('not a compact JWS');
  const header = decodeObject(parts[0]!, 'JWS header');
  if (typeof header.alg !== 'string') throw new JwtError('JWS header has no alg');
  return header as JwtHeader;
}

export interface VerifyOptions {
  /** Accepted `alg` values: EdDSA, and Ed25519 (its fully-specified name) where allowed. */
  algorithms: ReadonlyArray<'EdDSA' | 'Ed25519'>;
  /** Expected `typ` header (compared as media types, RFC 7515 §4.1.9). */
  typ?: string;
  issuer?: string;
  subject?: string;
  audience: string | readonly string[];
  requiredClaims?: readonly string[];
  /** Current time, milliseconds. */
  now: number;
  /** Seconds of leeway on exp and nbf. */
  clockTolerance: number;
}

const normalizeTyp = (value: string) => {
  const lower = value.toLowerCase();
  return value.includes('/') ? lower : `application/${lower}`;
};

function numericDate(payload: JwtPayload, claim: string): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtError(`"${claim}" claim must be a number`);
  return value;
}

/**
 * Verifies an EdDSA compact JWS and its claims. `key` may depend on the header (a `kid`); an unknown key is the
 * caller's to refuse by throwing. Anything wrong throws JwtError.
 */
export async function verifyEdDsaJwt(
  token: string,
  key: KeyObject | ((header: JwtHeader) => KeyObject | Promise<KeyObject>),
  options: VerifyOptions,
): Promise<{ header: JwtHeader; payload: JwtPayload }> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('not a compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  if (!SEGMENT.test(encodedHeader) || !SEGMENT.test(encodedPayload) || !SIGNATURE.test(encodedSignature)) throw new JwtError('not a compact JWS');
  const header = decodeHeader(token);
  // RFC 8725 §3.1: only the algorithm we use; `none`, HMAC and the rest never reach a key.
  if (!(options.algorithms as readonly string[]).includes(header.alg)) throw new JwtError('unexpected JWS algorithm');
  // RFC 7515 §4.1.11: extensions we do not understand (b64 among them) make the token invalid.
  if (header.crit !== undefined || header.b64 !== undefined) throw new JwtError('unsupported JWS header parameter');
  const resolved = typeof key === 'function' ? await key(header) : key;
  if (resolved.type !== 'public' || resolved.asymmetricKeyType !== 'ed25519') throw new JwtError('key is not an Ed25519 public key');
  const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  let valid = false;
  try {
    valid = verify(null, signed, resolved, Buffer.from(encodedSignature, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) throw new JwtError('signature verification failed', false, true);

  const payload = decodeObject(encodedPayload, 'JWT claims set');
  if (options.typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(options.typ))) {
    throw new JwtError('unexpected "typ" JWT header value');
  }
  const required = new Set([...(options.requiredClaims ?? []), 'aud', ...(options.subject !== undefined ? ['sub'] : []), ...(options.issuer !== undefined ? ['iss'] : [])]);
  for (const claim of required) if (!Object.hasOwn(payload, claim)) throw new JwtError(`missing required "${claim}" claim`);
  if (options.issuer !== undefined && payload.iss !== options.issuer) throw new JwtError('unexpected "iss" claim value');
  if (options.subject !== undefined && payload.sub !== options.subject) throw new JwtError('unexpected "sub" claim value');
  const audiences: readonly string[] = typeof options.audience === 'string' ? [options.audience] : options.audience;
  const aud = payload.aud;
  const audienceOk = typeof aud === 'string' ? audiences.includes(aud) : Array.isArray(aud) && audiences.some((a) => aud.includes(a));
  if (!audienceOk) throw new JwtError('unexpected "aud" claim value');
  const now = Math.floor(options.now / 1000);
  numericDate(payload, 'iat');
  const nbf = numericDate(payload, 'nbf');
  if (nbf !== undefined && nbf > now + options.clockTolerance) throw new JwtError('"nbf" claim timestamp check failed');
  const exp = numericDate(payload, 'exp');
  if (exp !== undefined && exp <= now - options.clockTolerance) throw new JwtError('"exp" claim timestamp check failed', true);
  return { header, payload };
}
