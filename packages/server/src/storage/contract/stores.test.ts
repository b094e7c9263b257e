import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifyAuditChain } from '@aim/protocol';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import { AuditLog } from '../../audit/audit-log.js';
import { ManualClock } from '../../core/clock.js';
import { AimError } from '../../core/errors.js';
import type { AgentKey } from '../../agents/types.js';
import type { AgentId, FamilyId, KeyId, OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const uuid = () => systemRandom.uuid();

/** One contract, two databases: every store guarantee is proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);
    const clock = new ManualClock();

    async function newUser(orgId?: string) {
      const organizationId = (orgId ?? uuid()) as OrgId;
      if (!orgId) await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: clock.now() });
      const id = uuid() as UserId;
      await fresh.stores.users.createUser({
        id,
        organizationId,
        email: `${id}@example.test`,
        role: 'member',
        createdAt: clock.now(),
        updatedAt: clock.now(),
        passwordChangedAt: clock.now(),
        disabledAt: null,
        passwordHash: 'not-a-real-hash',
      });
      return { id, organizationId };
    }

    async function newFamily(kindOfFamily: 'session' | 'sdk' = 'session') {
      const user = await newUser();
      const familyId = uuid() as FamilyId;
      const tokenId = uuid();
      await fresh.stores.refreshTokens.createFamily(
        {
          id: familyId,
          kind: kindOfFamily,
          organizationId: user.organizationId,
          userId: user.id,
          name: null,
          scopes: [],
          createdAt: clock.now(),
          expiresAt: clock.now() + 1e9,
          lastUsedAt: null,
          lastIp: null,
          userAgent: null,
          revokedAt: null,
          revokedReason: null,
          authTime: kindOfFamily === 'session' ? clock.now() : null,
        },
        { id: tokenId, secretHash: sha('s0'), createdAt: clock.now(), expiresAt: clock.now() + 1e8 },
      );
      return { familyId, tokenId, user };
    }

    const next = (secret = uuid()) => ({ id: uuid(), secretHash: sha(secret), createdAt: clock.now(), expiresAt: clock.now() + 1e8 });
    const rotate = (tokenId: string, secret = 's0', k: 'session' | 'sdk' = 'session', options: { graceMs?: number; successor?: ReturnType<typeof next> } = {}) =>
      fresh.stores.transaction((s) =>
        s.refreshTokens.rotateRefreshToken({
          tokenId,
          secretHash: sha(secret),
          kind: k,
          now: clock.now(),
          reuseGraceMs: options.graceMs ?? 0,
          next: options.successor ?? next(),
          ip: null,
          userAgent: null,
        }),
      );

    const pick = (o: Awaited<ReturnType<typeof rotate>>) => ({ kind: o.kind, retried: o.kind === 'rotated' ? o.retried : undefined });

    it('users: one email, one account, even when created concurrently', async () => {
      const organizationId = uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'race', createdAt: 1 });
      const email = `race-${uuid()}@example.test`;
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          fresh.stores.users.createUser({
            id: uuid() as UserId,
            organizationId,
            email,
            role: 'member',
            createdAt: 1,
            updatedAt: 1,
            passwordChangedAt: 1,
            disabledAt: null,
            passwordHash: 'x',
          }),
        ),
      );
      assert.equal(attempts.filter((a) => a.status === 'fulfilled').length, 1);
      for (const a of attempts.filter((x) => x.status === 'rejected')) {
        assert.ok(a.reason instanceof AimError && a.reason.code === 'conflict');
      }
    });

    it('users: lookups by id are scoped to the organization', async () => {
      const a = await newUser();
      const b = await newUser();
      assert.ok(await fresh.stores.users.findInOrganization(a.organizationId, a.id));
      assert.equal(await fresh.stores.users.findInOrganization(b.organizationId, a.id), undefined);
      assert.deepEqual(await fresh.stores.users.changeUser(b.organizationId, a.id, { kind: 'role', role: 'admin' }, 2), { kind: 'not_found' });
    });

    it('refresh tokens: rotation is a compare-and-swap with exactly one winner among 20', async () => {
      const { tokenId, familyId } = await newFamily();
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => rotate(tokenId)));
      assert.equal(outcomes.filter((o) => o.kind === 'rotated').length, 1);
      assert.ok(outcomes.every((o) => ['rotated', 'reused', 'revoked'].includes(o.kind)));
      const family = await fresh.stores.refreshTokens.findFamily(familyId);
      assert.ok(family?.revokedAt !== null, 'the losers revoked the family');
      assert.equal(family?.revokedReason, 'reuse_detected');
    });

    it('refresh tokens: a confirmed password moves only its own live session\'s auth_time, and rotation keeps it', async () => {
      const { familyId, tokenId, user } = await newFamily();
      const stranger = await newUser();
      const signedInAt = clock.now();
      clock.advance(3_600_000);
      assert.equal(await fresh.stores.refreshTokens.markSignedIn(familyId, stranger.id, clock.now()), false, 'another user\'s session');
      assert.equal((await fresh.stores.refreshTokens.findFamily(familyId))?.authTime, signedInAt);
      assert.equal(await fresh.stores.refreshTokens.markSignedIn(familyId, user.id, clock.now()), true);
      assert.equal((await fresh.stores.refreshTokens.findFamily(familyId))?.authTime, clock.now());
      const rotated = await rotate(tokenId);
      assert.equal(rotated.kind === 'rotated' && rotated.family.authTime, clock.now(), 'the next token of the session carries it');

      const sdk = await newFamily('sdk');
      assert.equal(await fresh.stores.refreshTokens.markSignedIn(sdk.familyId, sdk.user.id, clock.now()), false, 'an SDK token holds no sign-in');
      assert.equal((await fresh.stores.refreshTokens.findFamily(sdk.familyId))?.authTime, null);
      const ended = await newFamily();
      await fresh.stores.refreshTokens.revokeFamily(ended.familyId, 'logout', clock.now());
      assert.equal(await fresh.stores.refreshTokens.markSignedIn(ended.familyId, ended.user.id, clock.now()), false, 'a revoked session');
    });

    it('refresh tokens: within the grace, the replaced token may be presented again while its successor is unused', async () => {
      const grace = { graceMs: 10_000 };
      const { tokenId, familyId } = await newFamily();
      const lost = next('s1');
      assert.deepEqual(pick(await rotate(tokenId, 's0', 'session', { ...grace, successor: lost })), { kind: 'rotated', retried: false });
      clock.advance(4_000);
      const retry = next('s2');
      assert.deepEqual(pick(await rotate(tokenId, 's0', 'session', { ...grace, successor: retry })), { kind: 'rotated', retried: true });
      assert.equal((await rotate(retry.id, 's2', 'session', grace)).kind, 'rotated', 'the retry\'s successor is the live token');
      assert.equal((await fresh.stores.refreshTokens.findFamily(familyId))?.revokedAt, null);
      // The successor the client never got was retired: whoever holds it is not the client, and it gets no grace.
      assert.equal((await rotate(lost.id, 's1', 'session', grace)).kind, 'reused');
      assert.equal((await fresh.stores.refreshTokens.findFamily(familyId))?.revokedReason, 'reuse_detected');
    });

    it('refresh tokens: the grace ends with its time, once the successor was used, and when it is 0', async () => {
      const late = await newFamily();
      await rotate(late.tokenId, 's0', 'session', { graceMs: 10_000 });
      clock.advance(10_001);
      assert.equal((await rotate(late.tokenId, 's0', 'session', { graceMs: 10_000 })).kind, 'reused');

      const used = await newFamily();
      const successor = next('s1');
      await rotate(used.tokenId, 's0', 'session', { graceMs: 10_000, successor });
      assert.equal((await rotate(successor.id, 's1', 'session', { graceMs: 10_000 })).kind, 'rotated');
      assert.equal((await rotate(used.tokenId, 's0', 'session', { graceMs: 10_000 })).kind, 'reused', 'the client had its answer: this is a copy');

      const strict = await newFamily();
      await rotate(strict.tokenId);
      assert.equal((await rotate(strict.tokenId)).kind, 'reused');
    });

    it('refresh tokens: 10 concurrent retries within the grace leave at most one live successor', async () => {
      const { tokenId, familyId } = await newFamily();
      await rotate(tokenId, 's0', 'session', { graceMs: 10_000 });
      const successors = Array.from({ length: 10 }, (_, i) => next(`r${i}`));
      const outcomes = await Promise.all(successors.map((successor) => rotate(tokenId, 's0', 'session', { graceMs: 10_000, successor })));
      assert.ok(outcomes.every((o) => o.kind === 'rotated' || o.kind === 'reused' || o.kind === 'revoked'), JSON.stringify(outcomes.map((o) => o.kind)));
      const states = await Promise.all(successors.map((t, i) => fresh.stores.refreshTokens.findRefreshToken(t.id, sha(`r${i}`))));
      const live = states.filter((state) => state !== undefined && state.usedAt === null).length;
      const family = await fresh.stores.refreshTokens.findFamily(familyId);
      // Serialized (SQLite), each retry retires the one before; raced (PostgreSQL), a loser is reuse and ends the family.
      if (family?.revokedAt === null) {
        assert.equal(outcomes.filter((o) => o.kind === 'rotated').length, 10);
        assert.equal(live, 1, 'one live successor');
      } else assert.equal(family?.revokedReason, 'reuse_detected');
      assert.ok(live <= 1, `${live} live successors`);
    });

    it('refresh tokens: a wrong secret or another kind changes nothing', async () => {
      const { tokenId } = await newFamily();
      assert.equal((await rotate(tokenId, 'wrong')).kind, 'invalid');
      assert.equal((await rotate(tokenId, 's0', 'sdk')).kind, 'invalid');
      assert.equal((await rotate(tokenId)).kind, 'rotated', 'the token was left untouched by the failed tries');
    });

    it('refresh tokens: expiry follows the clock', async () => {
      const { tokenId } = await newFamily();
      clock.advance(1e8 + 1);
      assert.equal((await rotate(tokenId)).kind, 'expired');
    });

    it('refresh tokens: revoking a user\'s families spares the one asked', async () => {
      const first = await newFamily();
      const familyId = uuid() as FamilyId;
      await fresh.stores.refreshTokens.createFamily(
        { id: familyId, kind: 'session', organizationId: first.user.organizationId, userId: first.user.id, name: null, scopes: [], createdAt: clock.now(),
          expiresAt: clock.now() + 1e9, lastUsedAt: null, lastIp: null, userAgent: null, revokedAt: null, revokedReason: null, authTime: clock.now() },
        next(),
      );
      const revoked = await fresh.stores.refreshTokens.revokeUserFamilies(first.user.id, 'password_changed', clock.now(), { except: familyId });
      assert.deepEqual(revoked, [first.familyId]);
      assert.equal((await fresh.stores.refreshTokens.findFamily(familyId))?.revokedAt, null);
      assert.deepEqual(await fresh.stores.refreshTokens.revokeUserFamilies(first.user.id, 'password_changed', clock.now(), { except: familyId }), []);
    });

    it('audit: 40 concurrent appends to one organization form one unbroken chain', async () => {
      const audit = new AuditLog(fresh.stores.audit, clock, systemRandom);
      const organizationId = uuid();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          audit.record({ organizationId, event: 'session.created', actor: { type: 'user', id: `u${i}` }, data: { i } }),
        ),
      );
      const verdict = await verifyAuditChain(fresh.stores.audit.iterate(organizationId, 7), sha);
      assert.deepEqual(verdict, { valid: true, entries_checked: 40 });
    });

    it('audit: an append inside a failed transaction leaves nothing behind', async () => {
      const audit = new AuditLog(fresh.stores.audit, clock, systemRandom);
      const organizationId = uuid();
      await assert.rejects(
        fresh.stores.transaction(async (s) => {
          await audit.withStore(s.audit).record({ organizationId, event: 'session.created', actor: { type: 'system' } });
          throw new Error('boom');
        }),
      );
      assert.deepEqual(await fresh.stores.audit.list({ organizationId, limit: 10 }), []);
    });

    it('agent keys: one query for a page of agents answers each its own keys, newest first', async () => {
      const user = await newUser();
      const keyFor = (agentId: AgentId, createdAt: number): AgentKey => ({
        id: uuid() as KeyId,
        agentId,
        organizationId: user.organizationId,
        publicKey: randomBytes(32).toString('base64'),
        createdAt,
        expiresAt: createdAt + 1e9,
        graceUntil: null,
        replacedBy: null,
        revokedAt: null,
      });
      const agentIds = [uuid(), uuid(), uuid()] as AgentId[];
      const keys = new Map<AgentId, AgentKey[]>();
      for (const [i, id] of agentIds.entries()) {
        const first = keyFor(id, clock.now() + i);
        await fresh.stores.agents.createAgent(
          { id, organizationId: user.organizationId, name: `agent-${id}`, type: 'agent', description: null, capabilities: [], status: 'active', createdBy: `user:${user.id}`, createdAt: clock.now(), updatedAt: clock.now() },
          first,
        );
        keys.set(id, [first]);
      }
      const second = keyFor(agentIds[0]!, clock.now() + 100);
      await fresh.stores.agents.replaceKeys(agentIds[0]!, second, clock.now() + 100);
      const page = await fresh.stores.agents.listKeysOfAgents([agentIds[0]!, agentIds[1]!, uuid() as AgentId]);
      assert.equal(page.size, 3);
      assert.deepEqual(page.get(agentIds[0]!)?.map((k) => k.id), (await fresh.stores.agents.listKeys(agentIds[0]!)).map((k) => k.id));
      assert.deepEqual(page.get(agentIds[0]!)?.map((k) => k.id), [second.id, keys.get(agentIds[0]!)![0]!.id]);
      assert.deepEqual(page.get(agentIds[1]!)?.map((k) => k.id), [keys.get(agentIds[1]!)![0]!.id]);
      assert.equal([...page.values()].flat().some((k) => k.agentId === agentIds[2]), false);
      assert.equal((await fresh.stores.agents.listKeysOfAgents([])).size, 0);
    });

    it('agent pages: total counts every match of the filters on every page, an empty last page included', async () => {
      const user = await newUser();
      const other = await newUser();
      const add = async (owner: { organizationId: OrgId }, i: number, status: 'active' | 'suspended') => {
        const id = uuid() as AgentId;
        const at = clock.now() + i;
        await fresh.stores.agents.createAgent(
          { id, organizationId: owner.organizationId, name: `page-${id}`, type: 'agent', description: null, capabilities: [], status, createdBy: `user:${user.id}`, createdAt: at, updatedAt: at },
          { id: uuid() as KeyId, agentId: id, organizationId: owner.organizationId, publicKey: randomBytes(32).toString('base64'), createdAt: at, expiresAt: at + 1e9, graceUntil: null, replacedBy: null, revokedAt: null },
        );
      };
      for (let i = 0; i < 5; i += 1) await add(user, i, i < 3 ? 'active' : 'suspended');
      await add(other, 0, 'active');
      const list = (query: Parameters<typeof fresh.stores.agents.listAgents>[1]) => fresh.stores.agents.listAgents(user.organizationId, query);

      const first = await list({ limit: 2 });
      assert.deepEqual([first.agents.length, first.total], [2, 5]);
      const last = first.agents[1]!;
      const second = await list({ limit: 2, after: { createdAt: last.createdAt, id: last.id } });
      assert.deepEqual([second.agents.length, second.total], [2, 5]);
      const oldest = (await list({ limit: 5 })).agents[4]!;
      assert.deepEqual(await list({ limit: 2, after: { createdAt: oldest.createdAt, id: oldest.id } }), { agents: [], total: 5 });
      assert.equal((await list({ limit: 1, status: 'active' })).total, 3);
      assert.deepEqual(await list({ limit: 1, status: 'revoked' }), { agents: [], total: 0 });
      assert.equal((await fresh.stores.agents.listAgents(uuid() as OrgId, { limit: 10 })).total, 0);
    });

    it('signing keys: exactly one key signs after concurrent rotations', async () => {
      const key = () => ({ kid: uuid(), publicJwk: '{}', privateJwkSealed: 'x', createdAt: clock.now(), retiredAt: null, expiresAt: null });
      await Promise.all(Array.from({ length: 5 }, () => fresh.stores.signingKeys.insertAndRetireOthers(key(), clock.now(), clock.now() + 1000)));
      const published = await fresh.stores.signingKeys.listPublished(clock.now());
      assert.equal(published.filter((k) => k.retiredAt === null).length, 1);
      clock.advance(1001);
      assert.equal((await fresh.stores.signingKeys.listPublished(clock.now())).length, 1, 'retired keys leave the JWKS once their tokens expired');
    });
  });
}
