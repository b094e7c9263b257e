import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AuditRecord } from './audit-chain.js';
import { actionMessage, auditDisagreements, checkEvidence, decisionEvent, isVerificationEvidence, type VerificationEvidence } from './evidence.js';

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

  it('a decision must go with its reason: a denial flipped to allowed (or the reverse) is not consistent', async () => {
    for (const [decision, reason] of [
      ['denied', 'capability_missing'],
      ['denied', 'resource_not_allowed'],
      ['rejected', 'nonce_reused'],
    ] as const) {
      assert.equal((await checkEvidence(signed({ decision, reason }), check)).consistent, true, `${decision} ${reason}`);
    }
    for (const [decision, reason] of [
      ['allowed', 'capability_missing'],
      ['allowed', 'nonce_reused'],
      ['denied', 'capability_granted'],
      ['rejected', 'capability_granted'],
      ['approved', 'capability_granted'],
    ] as const) {
      const verdict = await checkEvidence(signed({ decision, reason }), check);
      assert.equal(verdict.consistent, false, `${decision} ${reason}`);
      assert.ok(verdict.problem);
    }
  });

  it('recognises the evidence shape', () => {
    assert.equal(isVerificationEvidence(signed()), true);
    assert.equal(isVerificationEvidence({ ...signed(), timestamp: '17' }), false);
    assert.equal(isVerificationEvidence(null), false);
  });

  it('the audit entry pins the decision: a flipped decision or reason disagrees with it', () => {
    const evidence = signed({ decision: 'denied', reason: 'capability_missing', caller: { type: 'api_key', id: 'key-1' } });
    const entry: AuditRecord = {
      id: 'e1', organization_id: 'o1', seq: 7, event: decisionEvent('denied'), actor_type: 'api_key', actor_id: 'key-1',
      subject_type: 'agent', subject_id: 'a1', ip: null, created_at: 1, prev_hash: '0'.repeat(64), hash: 'f'.repeat(64),
      data: { verification_id: 'v1', action: 'files:read', resource: '/r/1', key_id: 'k1', reason: 'capability_missing' },
    };
    assert.deepEqual(auditDisagreements(evidence, entry), []);
    assert.deepEqual(auditDisagreements({ ...evidence, decision: 'allowed', reason: 'capability_granted' }, entry), ['event', 'reason']);
    assert.deepEqual(auditDisagreements({ ...evidence, caller: { type: 'user', id: 'u1' } }, entry), ['caller']);
    assert.deepEqual([decisionEvent('allowed'), decisionEvent('denied'), decisionEvent('rejected')], ['action.verified', 'action.denied', 'action.rejected']);
  });
});
