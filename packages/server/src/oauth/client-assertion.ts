import type { AgentDirectory, LoadedAgent } from '../agents/directory.js';
import type { NonceStore } from '../agents/store.js';
import { keyVerifies } from '../agents/types.js';
import { SECOND, type Clock } from '../core/clock.js';
import { AimError } from '../core/errors.js';
import { isUuid, type AgentId, type OrgId } from '../core/ids.js';
import { decodeHeader, JwtError, verifyEdDsaJwt, type JwtHeader, type JwtPayload } from '../tokens/jws.js';
import { ASSERTION_ALGORITHMS } from './metadata.js';

/** Assertions live at most this long (RFC 7523 §3: a short exp); a longer one is refused outright. */
const MAX_LIFETIME_SECONDS = 300;
/** Seconds of clock skew allowed on exp, nbf and iat: an assertion from a clock a little ahead still works. */
const LEEWAY_SECONDS = 5;

/**
 * A refused assertion that names a real agent. It is still `invalid_client` to the caller, but the agent's
 * organization hears of it (audit, burst alerts): someone signing with a wrong key or replaying a captured assertion
 * is as much an attack on the agent as a forged verify-action.
 */
export class AgentAssertionRefused extends AimError {
  constructor(
    readonly agent: LoadedAgent['agent'],
    /**
     * `invalid_signature`: no live key of the agent signed it; `nonce_reused`: its jti was already used (both count
     * toward the burst alerts verify-action raises); `invalid_assertion`: the agent's key signed it, but it is unfit.
     */
    readonly reason: 'invalid_signature' | 'nonce_reused' | 'invalid_assertion',
    description: string,
  ) {
    super('invalid_client', description);
  }
}

/**
 * private_key_jwt (RFC 7523 §3, RFC 7521 §4.2): the agent proves itself with a JWT signed by its current key.
 * `iss` = `sub` = agent id, `aud` = the token endpoint (or the issuer), short `exp`, and a `jti` used once.
 */
export class ClientAssertionVerifier {
  constructor(
    private readonly directory: AgentDirectory,
    private readonly nonces: NonceStore,
    private readonly clock: Clock,
    private readonly audiences: string[],
    private readonly findOrganization: (agentId: AgentId) => Promise<OrgId | undefined>,
  ) {}

  async verify(assertion: string, clientId: string | undefined): Promise<LoadedAgent> {
    let header: JwtHeader;
    let unverifiedSub: unknown;
    try {
      header = decodeHeader(assertion);
      unverifiedSub = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')).sub;
    } catch {
      throw invalidClient('client_assertion is not a JWT');
    }
    if (typeof header.alg !== 'string' || !(ASSERTION_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw invalidClient('client_assertion must be signed with EdDSA (Ed25519)');
    }
    if (typeof unverifiedSub !== 'string' || !isUuid(unverifiedSub)) throw invalidClient('client_assertion sub must be an agent id');
    if (clientId !== undefined && clientId !== unverifiedSub) throw invalidClient('client_id does not match the assertion');
    const orgId = await this.findOrganization(unverifiedSub as AgentId);
    const loaded = orgId && (await this.directory.get(orgId, unverifiedSub as AgentId));
    if (!loaded) throw invalidClient('unknown client');

    const now = this.clock.now();
    let payload: JwtPayload | undefined;
    let lastError: unknown;
    for (const { key, object } of loaded.keys.filter(({ key }) => keyVerifies(key, now))) {
      try {
        ({ payload } = await verifyEdDsaJwt(assertion, object, {
          algorithms: ASSERTION_ALGORITHMS,
          issuer: loaded.agent.id,
          subject: loaded.agent.id,
          audience: this.audiences,
          requiredClaims: ['exp', 'jti'],
          now,
          clockTolerance: LEEWAY_SECONDS,
        }));
        if (key.expiresAt <= now) throw new AgentAssertionRefused(loaded.agent, 'invalid_assertion', 'the signing key expired; rotate it');
        break;
      } catch (error) {
        if (error instanceof AimError) throw error;
        lastError = error;
      }
    }
    if (!payload) {
      const description = lastError instanceof JwtError && lastError.expired ? 'client_assertion expired' : 'client_assertion did not verify';
      const reason = lastError instanceof JwtError && lastError.badSignature ? 'invalid_signature' : 'invalid_assertion';
      throw new AgentAssertionRefused(loaded.agent, reason, description);
    }
    // verifyEdDsaJwt made sure exp is there and that exp, iat and nbf are numbers when present.
    const exp = payload.exp as number;
    // RFC 7519 §4.1.6: an assertion cannot have been issued in the future; one that says so was made to outlive its exp.
    if (typeof payload.iat === 'number' && payload.iat > now / 1000 + LEEWAY_SECONDS) {
      throw new AgentAssertionRefused(loaded.agent, 'invalid_assertion', 'client_assertion was issued in the future');
    }
    const issuedAt = (payload.iat ?? payload.nbf ?? Math.floor(now / 1000)) as number;
    if (exp - issuedAt > MAX_LIFETIME_SECONDS || exp - now / 1000 > MAX_LIFETIME_SECONDS) {
      throw new AgentAssertionRefused(loaded.agent, 'invalid_assertion', `client_assertion must expire within ${MAX_LIFETIME_SECONDS} seconds`);
    }
    // RFC 7519 §4.1.7: a string (String() would make every object the same "[object Object]"). Control characters
    // have no place in an identifier, and PostgreSQL cannot store U+0000 (a 500, not a refusal).
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256 || /[\u0000-\u001f\u007f]/.test(jti)) {
      throw new AgentAssertionRefused(loaded.agent, 'invalid_assertion', 'client_assertion jti is not valid');
    }
    // RFC 7523 §3 item 7: a jti is accepted once; kept until the assertion could no longer be valid anyway.
    // Whole milliseconds: exp may have a fraction (RFC 7519 §2 NumericDate), which a bigint column or PX refuses.
    if (!(await this.nonces.consumeNonce(loaded.agent.id, `jti:${jti}`, Math.ceil((exp + 10) * SECOND)))) {
      throw new AgentAssertionRefused(loaded.agent, 'nonce_reused', 'client_assertion was already used');
    }
    // Only an authenticated client learns its own status (RFC 6749 §5.2: unauthorized_client is for authenticated clients).
    if (loaded.agent.status !== 'active') throw new AimError('unauthorized_client', `the agent is ${loaded.agent.status}`);
    return loaded;
  }
}

function invalidClient(description: string): AimError {
  return new AimError('invalid_client', description);
}
