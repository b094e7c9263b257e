/**
 * A TypeScript agent with an AIM identity.
 *
 * The first run generates an Ed25519 key pair locally, registers the agent with an API key and keeps the identity
 * in ~/.aim/credentials/<name>.json (0600). Later runs load it and need no API key: the agent authenticates with its
 * own key. Each action is signed and verified before it is carried out; a key nearing expiry is rotated on the way.
 *
 *   AIM_URL=http://127.0.0.1:8080 AIM_API_KEY=ak_live_… npx tsx examples/typescript-agent/agent.ts
 */
import { ActionDeniedError, RateLimitedError } from '@aim/sdk';
import { secure } from '@aim/sdk/node';

const name = process.env.AGENT_NAME ?? 'example-agent';
// `files:read@/reports/*`: read files, but only under /reports/ (a capability without `@` covers any resource).
const agent = await secure(name, { capabilities: ['files:read@/reports/*', 'search'], description: 'the SDK example agent' });

/** Does `work` only when AIM says this agent may do `action` on `resource`. */
async function guarded<T>(action: string, resource: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    const decision = await agent.verifyAction(action, resource);
    console.log(`allowed  ${action} ${resource} (evidence ${decision.verification_id})`);
    return await work();
  } catch (error) {
    if (error instanceof ActionDeniedError) {
      console.log(`denied   ${action} ${resource} (${error.decision.reason})`);
      return undefined;
    }
    if (error instanceof RateLimitedError) {
      console.log(`slow down: retry in ${error.retryAfter}s`);
      return undefined;
    }
    throw error;
  }
}

console.log(`agent ${name} (${agent.id})`);
await guarded('files:read', '/reports/q3.pdf', async () => 'report contents');
await guarded('files:read', '/payroll/2026.csv', async () => 'payroll');
await guarded('search', 'docs/handbook', async () => ['result']);
await guarded('files:delete', '/reports/q3.pdf', async () => 'deleted');
