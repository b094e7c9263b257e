import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { runCli } from '../support/cli.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

type Checkpoint = { organization_id: string; seq: number; hash: string; issued_at: number; checkpoint: string };
type Verdict = { valid: boolean; entries_checked: number; first_bad?: { seq: number; problem: string }; checkpoint?: { seq: number; status: string } };

const workDir = mkdtempSync(join(tmpdir(), 'aim-audit-checkpoint-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

for (const store of STORE_KINDS) {
  describe(`audit checkpoints (${store})`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store });
    });
    after(() => t.close());

    /** An organization with a dozen entries in its chain. */
    async function busyOrganization(): Promise<SignedIn> {
      const admin = await t.signIn({ role: 'admin' });
      for (let i = 0; i < 4; i++) await t.http.post('/api/v1/auth/refresh', { refresh_token: (await t.signIn({ role: 'member', organizationId: admin.organizationId })).refreshToken });
      return admin;
    }
    const checkpointOf = async (o: SignedIn) => {
      const res = await t.http.get<Checkpoint>('/api/v1/audit-logs/checkpoint', { token: o.accessToken });
      assert.equal(res.status, 200);
      return res.body;
    };
    const verify = (o: SignedIn, c?: { seq: number; hash: string }) =>
      t.http.get<Verdict>(`/api/v1/audit-logs/verify${c ? `?checkpoint_seq=${c.seq}&checkpoint_hash=${c.hash}` : ''}`, { token: o.accessToken });
    const cliVerify = async (o: SignedIn, checkpoint: string, json = true) => {
      const exported = await t.http.get<unknown>('/api/v1/audit-logs/export?format=jsonl', { token: o.accessToken });
      const file = join(workDir, `${store}-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, exported.text);
      return runCli(['audit', 'verify', '--file', file, '--checkpoint', checkpoint, ...(json ? ['--json'] : [])]);
    };

    it('states the head of the chain, signed with a key of the JWKS, as a type no access token has', async () => {
      const o = await busyOrganization();
      const c = await checkpointOf(o);
      const newest = (await t.http.get<{ entries: Array<{ seq: number; hash: string }> }>('/api/v1/audit-logs?limit=1', { token: o.accessToken })).body.entries[0]!;
      assert.deepEqual({ org: c.organization_id, seq: c.seq, hash: c.hash }, { org: o.organizationId, seq: newest.seq, hash: newest.hash });

      const jwks = (await t.http.get<JSONWebKeySet>('/.well-known/jwks.json')).body;
      const issuer = (await t.http.get<{ issuer: string }>('/.well-known/oauth-authorization-server')).body.issuer;
      const { payload, protectedHeader } = await jwtVerify(c.checkpoint, createLocalJWKSet(jwks), { issuer, typ: 'aim-audit-checkpoint+jwt' });
      assert.equal(protectedHeader.alg, 'EdDSA');
      assert.deepEqual({ sub: payload.sub, seq: payload.seq, hash: payload.hash }, { sub: o.organizationId, seq: c.seq, hash: c.hash });

      const asBearer = await t.http.get('/api/v1/agents', { token: c.checkpoint });
      assert.equal(asBearer.status, 401, 'a checkpoint is not an access token');
      assert.equal(asBearer.body.error, 'invalid_token');
    });

    it('a chain that grew since still holds the checkpoint, on the server and offline', async () => {
      const o = await busyOrganization();
      const c = await checkpointOf(o);
      await t.http.post('/api/v1/auth/refresh', { refresh_token: o.refreshToken });
      const verdict = await verify(o, c);
      assert.equal(verdict.status, 200);
      assert.equal(verdict.body.valid, true);
      assert.deepEqual(verdict.body.checkpoint, { seq: c.seq, status: 'matched' });
      const cli = await cliVerify(o, `${c.seq}:${c.hash}`, false);
      assert.equal(cli.code, 0, cli.stderr + cli.stdout);
      assert.match(cli.stdout, new RegExp(`checkpoint seq ${c.seq}: present and unchanged`));
    });

    it('entries cut from the end pass the chain check alone, and fail against a checkpoint', async () => {
      const o = await busyOrganization();
      const c = await checkpointOf(o);
      await t.server.database.db.deleteFrom('audit_log').where('organization_id', '=', o.organizationId).where('seq', '>', c.seq - 3).execute();

      const alone = await verify(o);
      assert.equal(alone.body.valid, true, 'a hash chain cannot see its own tail cut');
      const held = await verify(o, c);
      assert.deepEqual(held.body, { valid: false, entries_checked: c.seq - 3, checkpoint: { seq: c.seq, status: 'missing' } });

      const cli = await cliVerify(o, `${c.seq}:${c.hash}`);
      assert.equal(cli.code, 1, cli.stderr + cli.stdout);
      assert.deepEqual((JSON.parse(cli.stdout) as Verdict).checkpoint, { seq: c.seq, status: 'missing' });
    });

    it('a chain rebuilt over the checkpoint fails at that entry', async () => {
      const o = await busyOrganization();
      const c = await checkpointOf(o);
      const forged = await verify(o, { seq: c.seq, hash: 'a'.repeat(64) });
      assert.equal(forged.body.valid, false);
      assert.deepEqual(forged.body.first_bad && { seq: forged.body.first_bad.seq, problem: forged.body.first_bad.problem }, { seq: c.seq, problem: 'checkpoint_mismatch' });
      assert.deepEqual(forged.body.checkpoint, { seq: c.seq, status: 'mismatch' });
    });

    it('refuses malformed checkpoints with 400, callers without audit:read with 403, no credential with 401', async () => {
      const o = await busyOrganization();
      const hash = 'b'.repeat(64);
      for (const q of ['checkpoint_seq=3', `checkpoint_hash=${hash}`, `checkpoint_seq=-1&checkpoint_hash=${hash}`, `checkpoint_seq=three&checkpoint_hash=${hash}`,
        'checkpoint_seq=3&checkpoint_hash=XYZ', `checkpoint_seq=3&checkpoint_hash=${'c'.repeat(10_000)}`, `checkpoint_seq=3&checkpoint_hash=${hash.toUpperCase()}`]) {
        const res = await t.http.get(`/api/v1/audit-logs/verify?${q}`, { token: o.accessToken });
        assert.equal(res.status, 400, q);
        assert.equal(res.body.error, 'invalid_request', q);
      }
      const member = await t.signIn({ role: 'member', organizationId: o.organizationId });
      const refused = await t.http.get('/api/v1/audit-logs/checkpoint', { token: member.accessToken });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error, 'insufficient_scope');
      assert.equal((await t.http.get('/api/v1/audit-logs/checkpoint')).status, 401);
      const created = await t.http.post<{ key: string }>('/api/v1/api-keys', { name: 'checkpoint cron', scopes: ['audit:read'] }, { token: o.accessToken });
      assert.equal(created.status, 201);
      const byKey = await t.http.get<Checkpoint>('/api/v1/audit-logs/checkpoint', { headers: { 'x-api-key': created.body.key } });
      assert.equal(byKey.status, 200, 'an API key holding only audit:read is enough for a cron job');
      assert.equal(byKey.body.organization_id, o.organizationId);
      const cli = await cliVerify(o, '12:not-a-hash');
      assert.equal(cli.code, 2, 'a malformed --checkpoint is a usage error');
    });
  });
}
