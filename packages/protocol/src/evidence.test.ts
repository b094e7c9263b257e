import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { actionMessage, checkEvidence, isVerificationEvidence, type VerificationEvidence } from './evidence.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const check = (message: string, signature: string) => verify(null, Buffer.from(message), publicKey, Buffer.from(signature, 'base64'));

function signed(overrides: Partial<VerificationEvidence> = {}): VerificationEvidence {
  const fields = { agent_id: 'a1', action: 'files:read', resource: '/r/1', timestamp: 1_795_000_000, nonce: 'bm9uY2UtMDAx' };
  const message = actionMessage(fields.agent_id, fields.action, fields.resource, fields.timestamp, fields.nonce);
  const signature = sign(null, Buffer.from(message), privateKey).toString('base64');
  return { id: 'v1', key_id: 'k1', ...fields, message, signature, decision: 'allowed', reason: 'capability_granted', created_at: 1, ...overrides };
}

describe('verify-action evidence', () => {
  it('joins the fields with ":" exactly as agents sign them', () => {
    assert.equal(actionMessage('a', 'files:read', '/x', 17, 'n0nce123'), 'a:files:read:/x:17:n0nce123');
  });

  it('a signed decision is consistent; an edited field or a re-signed message is not', async () => {
    assert.deepEqual(await checkEvidence(signed(), check), { consistent: true, message_matches: true, signature: 'valid' });
    const edited = await checkEvidence(signed({ resource: '/r/2' }), check);
    assert.deepEqual([edited.consistent, edited.message_matches], [false, false]);
    const good = signed();
    const rewritten = { ...good, resource: '/r/2', message: good.message.replace('/r/1', '/r/2') };
    assert.deepEqual([(await checkEvidence(rewritten, check)).signature, (await checkEvidence(rewritten, check)).consistent], ['invalid', false]);
  });

  it('a refusal may name no key; an allow or a deny must', async () => {
    assert.deepEqual(await checkEvidence(signed({ key_id: null, decision: 'rejected', reason: 'invalid_signature' })), {
      consistent: true,
      message_matches: true,
      signature: 'not_checked',
    });
    assert.equal((await checkEvidence(signed({ key_id: null }))).consistent, false);
    await assert.rejects(checkEvidence(signed()), TypeError, 'a named key needs its public key');
  });

  it('recognises the evidence shape', () => {
    assert.equal(isVerificationEvidence(signed()), true);
    assert.equal(isVerificationEvidence({ ...signed(), timestamp: '17' }), false);
    assert.equal(isVerificationEvidence(null), false);
  });
});
