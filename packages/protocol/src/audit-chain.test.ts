import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  AUDIT_EXPORT_FORMAT,
  GENESIS_HASH,
  auditHashInput,
  canonicalJson,
  isAuditExportHeader,
  isAuditRecord,
  verifyAuditChain,
  type AuditRecord,
} from './audit-chain.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function chain(length: number): AuditRecord[] {
  const out: AuditRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const unhashed = {
      id: `e${seq}`,
      organization_id: 'org',
      seq,
      event: 'session.created',
      actor_type: 'user',
      actor_id: 'u1',
      subject_type: null,
      subject_id: null,
      ip: '127.0.0.1',
      data: { b: 1, a: [seq] },
      created_at: 1000 + seq,
      prev_hash: prev,
    };
    const entry = { ...unhashed, hash: sha(auditHashInput(unhashed)) };
    out.push(entry);
    prev = entry.hash;
  }
  return out;
}

describe('audit chain', () => {
  it('canonical JSON sorts keys at every level', () => {
    assert.equal(canonicalJson({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] }), '{"a":[{"y":2,"z":1}],"b":{"c":2,"d":1}}');
  });

  it('an intact chain verifies', async () => {
    assert.deepEqual(await verifyAuditChain(chain(5), sha), { valid: true, entries_checked: 5 });
  });

  it('an edited entry is reported', async () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, data: { b: 2, a: [3] } };
    const verdict = await verifyAuditChain(entries, sha);
    assert.equal(verdict.valid, false);
    assert.deepEqual(verdict.first_bad, { id: 'e3', seq: 3, problem: 'hash_mismatch' });
  });

  it('a deleted entry is reported', async () => {
    const entries = chain(5);
    entries.splice(1, 1);
    const verdict = await verifyAuditChain(entries, sha);
    assert.deepEqual(verdict.first_bad, { id: 'e3', seq: 3, problem: 'sequence_gap' });
  });

  it('reordered entries are reported', async () => {
    const entries = chain(5);
    [entries[1], entries[2]] = [entries[2]!, entries[1]!];
    const verdict = await verifyAuditChain(entries, sha);
    assert.equal(verdict.valid, false);
    assert.equal(verdict.first_bad?.seq, 3);
  });

  it('a rehashed forgery breaks the link to the next entry', async () => {
    const entries = chain(4);
    const forged = { ...entries[1]!, data: { forged: true } };
    forged.hash = sha(auditHashInput(forged));
    entries[1] = forged;
    const verdict = await verifyAuditChain(entries, sha);
    assert.deepEqual(verdict.first_bad, { id: 'e3', seq: 3, problem: 'broken_link' });
  });

  it('a pruned chain verifies against its anchor, and not against another', async () => {
    const entries = chain(6);
    const kept = entries.slice(3);
    assert.equal((await verifyAuditChain(kept, sha, entries[2]!.hash)).valid, true);
    assert.equal((await verifyAuditChain(kept, sha, GENESIS_HASH)).valid, false);
  });

  it('a full anchor also fixes where the kept chain starts', async () => {
    const entries = chain(6);
    const anchor = { seq: entries[2]!.seq, hash: entries[2]!.hash };
    assert.deepEqual(await verifyAuditChain(entries.slice(3), sha, anchor), { valid: true, entries_checked: 3 });
    const missingFirst = await verifyAuditChain(entries.slice(4), sha, anchor);
    assert.deepEqual(missingFirst.first_bad, { id: 'e5', seq: 5, problem: 'sequence_gap' });
    const wrongHash = await verifyAuditChain(entries.slice(3), sha, { seq: 3, hash: GENESIS_HASH });
    assert.deepEqual(wrongHash.first_bad, { id: 'e4', seq: 4, problem: 'broken_link' });
  });

  it('GENESIS_HASH as the anchor refuses a chain whose first entries were deleted', async () => {
    const verdict = await verifyAuditChain(chain(4).slice(1), sha, GENESIS_HASH);
    assert.deepEqual(verdict.first_bad, { id: 'e2', seq: 2, problem: 'broken_link' });
  });

  describe('checkpoints: a head kept elsewhere catches what the chain alone cannot', () => {
    const full = chain(10);
    const head = (seq: number) => ({ seq, hash: full[seq - 1]!.hash });

    it('a chain that still holds the checkpoint, unchanged, passes; so does the empty chain checkpoint', async () => {
      assert.deepEqual(await verifyAuditChain(full, sha, GENESIS_HASH, head(6)), {
        valid: true,
        entries_checked: 10,
        checkpoint: { seq: 6, status: 'matched' },
      });
      assert.equal((await verifyAuditChain(full, sha, GENESIS_HASH, head(10))).valid, true, 'the last entry itself');
      assert.deepEqual((await verifyAuditChain(full, sha, GENESIS_HASH, { seq: 0, hash: GENESIS_HASH })).checkpoint, { seq: 0, status: 'matched' });
    });

    it('entries cut from the end are caught: the chain verifies, the checkpoint is missing', async () => {
      const cut = full.slice(0, 7);
      assert.deepEqual(await verifyAuditChain(cut, sha, GENESIS_HASH), { valid: true, entries_checked: 7 }, 'the chain alone looks fine');
      assert.deepEqual(await verifyAuditChain(cut, sha, GENESIS_HASH, head(9)), {
        valid: false,
        entries_checked: 7,
        checkpoint: { seq: 9, status: 'missing' },
      });
      assert.equal((await verifyAuditChain([], sha, GENESIS_HASH, head(1))).checkpoint?.status, 'missing');
    });

    it('a chain rebuilt from the checkpoint on is caught at that entry', async () => {
      // A different history that hashes correctly: rewritten with other data from entry 5 on.
      let prev = full[3]!.hash;
      const forged = full.slice(0, 4);
      for (const original of full.slice(4)) {
        const { hash: _replaced, ...rest } = { ...original, data: { forged: true }, prev_hash: prev };
        const entry = { ...rest, hash: sha(auditHashInput(rest)) };
        forged.push(entry);
        prev = entry.hash;
      }
      assert.equal((await verifyAuditChain(forged, sha, GENESIS_HASH)).valid, true, 'internally consistent');
      assert.deepEqual(await verifyAuditChain(forged, sha, GENESIS_HASH, head(6)), {
        valid: false,
        entries_checked: 5,
        first_bad: { id: 'e6', seq: 6, problem: 'checkpoint_mismatch' },
        checkpoint: { seq: 6, status: 'mismatch' },
      });
    });

    it('a chain rebuilt to start after the checkpoint, linked to GENESIS_HASH, does not pass for a pruned one', async () => {
      // Everything up to the checkpoint deleted, the rest rewritten with its first entry linking to the genesis hash.
      let prev = GENESIS_HASH;
      const rebuilt: AuditRecord[] = [];
      for (const original of full.slice(6)) {
        const { hash: _replaced, ...rest } = { ...original, data: { forged: true }, prev_hash: prev };
        const entry = { ...rest, hash: sha(auditHashInput(rest)) };
        rebuilt.push(entry);
        prev = entry.hash;
      }
      const verdict = await verifyAuditChain(rebuilt, sha, GENESIS_HASH, head(6));
      assert.equal(verdict.valid, false, JSON.stringify(verdict));
      assert.deepEqual(verdict.first_bad, { id: 'e7', seq: 7, problem: 'sequence_gap' });
      assert.equal((await verifyAuditChain(rebuilt, sha, GENESIS_HASH)).valid, false, 'no checkpoint: an unpruned chain starts at seq 1');
    });

    it('a checkpoint that retention pruned cannot be checked, and says so; the anchor itself can', async () => {
      const kept = full.slice(5);
      const anchor = { seq: 5, hash: full[4]!.hash };
      assert.deepEqual((await verifyAuditChain(kept, sha, anchor, head(3))).checkpoint, { seq: 3, status: 'pruned' });
      assert.deepEqual((await verifyAuditChain(kept, sha, anchor, head(5))).checkpoint, { seq: 5, status: 'matched' });
      assert.deepEqual((await verifyAuditChain(kept, sha, anchor, { seq: 5, hash: 'f'.repeat(64) })).checkpoint, { seq: 5, status: 'mismatch' });
      assert.deepEqual((await verifyAuditChain([], sha, anchor, head(3))).checkpoint, { seq: 3, status: 'pruned' }, 'everything pruned');
    });
  });

  it('recognises export headers and entries read from untrusted text', () => {
    const [entry] = chain(1);
    assert.equal(isAuditRecord(JSON.parse(JSON.stringify(entry))), true);
    assert.equal(isAuditRecord({ ...entry, seq: '1' }), false);
    assert.equal(isAuditRecord({ ...entry, actor_id: 5 }), false);
    assert.equal(isAuditRecord(null), false);
    const header = { format: AUDIT_EXPORT_FORMAT, organization_id: 'org', exported_at: 1, anchor: null };
    assert.equal(isAuditExportHeader(header), true);
    assert.equal(isAuditExportHeader({ ...header, anchor: { seq: 3, hash: 'h' } }), true);
    assert.equal(isAuditExportHeader({ ...header, anchor: { seq: 'x', hash: 'h' } }), false);
    assert.equal(isAuditExportHeader(entry), false);
  });
});
