/**
 * A CI step with an API key: make sure a service's agent exists with the capabilities the deployment needs, prove
 * that it can act, and fail the build otherwise. Prints one JSON line for the pipeline's logs (no secrets).
 *
 *   AIM_URL=https://aim.example.com AIM_API_KEY=ak_live_… AGENT_NAME=billing-bot AGENT_CAPABILITIES=invoices:* \
 *   SMOKE_ACTION=invoices:read SMOKE_RESOURCE=invoice/smoke npx tsx examples/ci/provision-agent.ts
 *
 * Exit codes: 0 ready; 1 the agent may not do the smoke action; 2 a setting is missing; 3 AIM refused or failed.
 */
import { AIMClient, AimError } from '@aim/sdk';
import { secure } from '@aim/sdk/node';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return value;
};

const baseUrl = env('AIM_URL');
const name = env('AGENT_NAME');
const capabilities = env('AGENT_CAPABILITIES').split(',').map((c) => c.trim());
const aim = new AIMClient({ baseUrl, auth: { apiKey: env('AIM_API_KEY') }, retry: { maxRetries: 3, maxWaitSeconds: 60 } });

try {
  // The identity lives in the CI workspace's credentials dir (AIM_CREDENTIALS_DIR), cached between runs or not.
  const agent = await secure(name, { baseUrl, registerWith: aim, capabilities });
  const current = await aim.agents.get(agent.id);
  const missing = capabilities.filter((c) => !current.capabilities.includes(c));
  if (missing.length > 0) await aim.request('PATCH', `/api/v1/agents/${agent.id}`, { json: { capabilities: [...current.capabilities, ...missing] } });

  const decision = await agent.verifyAction(env('SMOKE_ACTION'), env('SMOKE_RESOURCE'), { throwOnDeny: false });
  console.log(
    JSON.stringify({
      agent_id: agent.id,
      name,
      status: current.status,
      added_capabilities: missing,
      smoke: { allowed: decision.allowed, reason: decision.reason, verification_id: decision.verification_id },
      key_rotated: agent.rotations > 0,
      rate_limit_remaining: aim.rateLimit?.remaining ?? null,
    }),
  );
  process.exit(decision.allowed ? 0 : 1);
} catch (error) {
  if (!(error instanceof AimError)) throw error;
  console.error(JSON.stringify({ error: error.code, error_description: error.message }));
  process.exit(3);
}
