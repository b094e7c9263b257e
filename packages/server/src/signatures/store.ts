import type { AgentId, OrgId } from '../core/ids.js';
import type { Verification, VerificationStats } from './types.js';

export interface VerificationStore {
  insertVerification(v: Verification): Promise<void>;
  findVerification(orgId: OrgId, id: string): Promise<Verification | undefined>;
  /** Newest first; `after` continues from the last item of the previous page. */
  listVerifications(
    orgId: OrgId,
    query: { agentId?: AgentId; decision?: string; limit: number; after?: { createdAt: number; id: string } },
  ): Promise<Verification[]>;
  /** Decisions per UTC day since `since`, for the dashboard. */
  verificationStats(orgId: OrgId, since: number): Promise<VerificationStats[]>;
}
