import type { AuditCheckpoint } from '@aim/protocol';
import type { Clock } from '../core/clock.js';
import { signEdDsaJwt } from '../tokens/jws.js';
import type { SigningKeyRing } from '../tokens/signing-keys.js';
import type { AuditService } from './service.js';

/** The JWS `typ` of a checkpoint: never an access token's, so one can never be presented as the other. */
const CHECKPOINT_TYP = 'aim-audit-checkpoint+jwt';

export interface SignedCheckpoint extends AuditCheckpoint {
  organization_id: string;
  issued_at: number;
  /** Compact JWS (EdDSA, `kid` in the JWKS) over {iss, sub: organization, seq, hash, iat}. */
  checkpoint: string;
}

/**
 * Signed statements of a chain's head. Kept outside AIM (a ticket, a WORM bucket, another team's log), each lets
 * a later verification prove the chain was neither cut short nor rebuilt since; the signature, checked against
 * the JWKS when the checkpoint is fetched, shows the server itself issued it.
 */
export class AuditCheckpoints {
  constructor(
    private readonly audit: AuditService,
    private readonly keys: SigningKeyRing,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  async issue(organizationId: string): Promise<SignedCheckpoint> {
    const head = await this.audit.head(organizationId);
    const issuedAt = this.clock.now();
    const { kid, privateKey } = this.keys.current();
    const checkpoint = signEdDsaJwt(
      { kid, typ: CHECKPOINT_TYP },
      { iss: this.issuer, sub: organizationId, seq: head.seq, hash: head.hash, iat: Math.floor(issuedAt / 1000) },
      privateKey,
    );
    return { organization_id: organizationId, seq: head.seq, hash: head.hash, issued_at: issuedAt, checkpoint };
  }
}
