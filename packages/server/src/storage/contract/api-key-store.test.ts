import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { STORE_KINDS } from '../../../test/support/databases.js';
import { useFreshStores } from '../../../test/support/fresh-stores.js';
import type { NewApiKey, UsageCount } from '../../api-keys/types.js';
import { DAY, ManualClock } from '../../core/clock.js';
import type { ApiKeyId, OrgId, UserId } from '../../core/ids.js';
import { systemRandom } from '../../core/random.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const uuid = () => systemRandom.uuid();

/** The API key store's guarantees, proven on SQLite and on PostgreSQL. */
for (const kind of STORE_KINDS) {
  describe(`API key store contract (${kind})`, () => {
    const fresh = useFreshStores(kind);
    const clock = new ManualClock();

    async function newUser() {
      const organizationId = uuid() as OrgId;
      await fresh.stores.users.createOrganization({ id: organizationId, name: 'org', createdAt: clock.now() });
      const id = uuid() as UserId;
      await fresh.stores.users.createUser({
        id,
        organizationId,
        email: `${id}@example.test`,
        role: 'admin',
        createdAt: clock.now(),
        updatedAt: clock.now(),
        passwordChangedAt: clock.now(),
        disabledAt: null,
        passwordHash: 'not-a-real-hash',
      });
      return { id, organizationId };
    }

    function newKey(owner: { id: UserId; organizationId: OrgId }, overrides: Partial<NewApiKey> = {}): NewApiKey {
      const id = uuid() as ApiKeyId;
      return {
        id,
        organizationId: owner.organizationId,
        createdBy: owner.id,
        name: 'ci',
        prefix: 'ak_live_abcdefgh',
        environment: 'live',
        scopes: ['agents:read', 'verify'],
        rateLimitPerMinute: null,
        createdAt: clock.now(),
        expiresAt: clock.now() + 90 * DAY,
        rotatedFrom: null,
        mintedBy: null,
        keyHash: sha(`key-${id}`),
        ...overrides,
      };
    }

    it('a key is found by its hash, with its creator state, and by nothing else', async () => {
      const owner = await newUser();
      const record = newKey(owner, { rateLimitPerMinute: 60 });
      await fresh.stores.apiKeys.insertApiKey(record);
      const found = await fresh.stores.apiKeys.findByHash(record.keyHash);
      assert.equal(found?.id, record.id);
      assert.deepEqual(found?.scopes, ['agents:read', 'verify']);
      assert.equal(found?.rateLimitPerMinute, 60);
      assert.equal(found?.creatorDisabledAt, null);
      assert.equal(await fresh.stores.apiKeys.findByHash(sha('another key')), undefined);
      assert.equal(await fresh.stores.apiKeys.findByHash(record.keyHash.toUpperCase()), undefined);
    });

    it('a hash names one key: a second insert with it fails', async () => {
      const owner = await newUser();
      const first = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(first);
      await assert.rejects(fresh.stores.apiKeys.insertApiKey(newKey(owner, { keyHash: first.keyHash })));
    });

    it('lookups by id, lists and revocation are scoped to the organization', async () => {
      const a = await newUser();
      const b = await newUser();
      const key = newKey(a);
      await fresh.stores.apiKeys.insertApiKey(key);
      assert.ok(await fresh.stores.apiKeys.findInOrganization(a.organizationId, key.id));
      assert.equal(await fresh.stores.apiKeys.findInOrganization(b.organizationId, key.id), undefined);
      assert.equal((await fresh.stores.apiKeys.listByOrganization(b.organizationId, { limit: 10 })).total, 0);
      assert.equal(await fresh.stores.apiKeys.revokeApiKey(b.organizationId, key.id, clock.now()), undefined);
      assert.equal((await fresh.stores.apiKeys.findByHash(key.keyHash))?.revokedAt, null);
    });

    it('revocation is idempotent: the first call changes, the second reports it did not', async () => {
      const owner = await newUser();
      const key = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(key);
      const first = await fresh.stores.apiKeys.revokeApiKey(owner.organizationId, key.id, clock.now());
      assert.equal(first?.changed, true);
      assert.equal(first?.key.revokedAt, clock.now());
      const second = await fresh.stores.apiKeys.revokeApiKey(owner.organizationId, key.id, clock.now() + 5);
      assert.equal(second?.changed, false);
      assert.equal(second?.key.revokedAt, clock.now(), 'the first revocation time stays');
    });

    it('lists page newest first without gaps or repeats', async () => {
      const owner = await newUser();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        // Two keys share each creation time: the id breaks the tie.
        const key = newKey(owner, { createdAt: 1000 + Math.floor(i / 2) });
        ids.push(key.id);
        await fresh.stores.apiKeys.insertApiKey(key);
      }
      const seen: string[] = [];
      let after: { createdAt: number; id: ApiKeyId } | undefined;
      for (;;) {
        const page = await fresh.stores.apiKeys.listByOrganization(owner.organizationId, { limit: 3, ...(after && { after }) });
        assert.equal(page.total, 7);
        seen.push(...page.keys.map((k) => k.id));
        if (!page.next) break;
        after = page.next;
      }
      assert.equal(seen.length, 7);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      const times = (await fresh.stores.apiKeys.listByOrganization(owner.organizationId, { limit: 10 })).keys.map((k) => k.createdAt);
      assert.deepEqual(times, [...times].sort((x, y) => y - x));
    });

    it('rotation is a compare-and-swap: 10 concurrent rotations of one key produce one successor', async () => {
      const owner = await newUser();
      const key = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(key);
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          fresh.stores.transaction((s) =>
            s.apiKeys.rotateApiKey({
              organizationId: owner.organizationId,
              id: key.id,
              now: clock.now(),
              graceUntil: clock.now() + DAY,
              successor: newKey(owner, { rotatedFrom: key.id }),
            }),
          ),
        ),
      );
      const won = outcomes.filter((o) => o.kind === 'rotated');
      assert.equal(won.length, 1);
      assert.ok(outcomes.every((o) => o.kind === 'rotated' || o.kind === 'not_rotatable'));
      const successors = await fresh.database.db.selectFrom('api_keys').select('id').where('rotated_from', '=', key.id).execute();
      assert.equal(successors.length, 1);
      const old = await fresh.stores.apiKeys.findInOrganization(owner.organizationId, key.id);
      assert.equal(old?.replacedBy, successors[0]?.id);
      assert.equal(old?.graceUntil, clock.now() + DAY);
    });

    it('revoked, expired and other organizations\' keys are not rotated', async () => {
      const owner = await newUser();
      const stranger = await newUser();
      const rotate = (id: ApiKeyId, organizationId = owner.organizationId) =>
        fresh.stores.apiKeys.rotateApiKey({ organizationId, id, now: clock.now(), graceUntil: clock.now() + DAY, successor: newKey(owner, { rotatedFrom: id }) });
      const revoked = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(revoked);
      await fresh.stores.apiKeys.revokeApiKey(owner.organizationId, revoked.id, clock.now());
      assert.equal((await rotate(revoked.id)).kind, 'not_rotatable');
      const expired = newKey(owner, { expiresAt: clock.now() });
      await fresh.stores.apiKeys.insertApiKey(expired);
      assert.equal((await rotate(expired.id)).kind, 'not_rotatable');
      const live = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(live);
      assert.equal((await rotate(live.id, stranger.organizationId)).kind, 'not_found');
      assert.equal((await rotate(uuid() as ApiKeyId)).kind, 'not_found');
      assert.equal((await rotate(live.id)).kind, 'rotated');
    });

    it('minted_by round-trips through insert, rotation, lookups and lists', async () => {
      const owner = await newUser();
      const parent = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(parent);
      const child = newKey(owner, { mintedBy: parent.id });
      assert.equal((await fresh.stores.apiKeys.insertApiKey(child)).mintedBy, parent.id);
      const rotated = await fresh.stores.apiKeys.rotateApiKey({
        organizationId: owner.organizationId,
        id: child.id,
        now: clock.now(),
        graceUntil: clock.now() + DAY,
        successor: newKey(owner, { rotatedFrom: child.id, mintedBy: child.id }),
      });
      assert.equal(rotated.kind === 'rotated' && rotated.successor.mintedBy, child.id);
      assert.equal((await fresh.stores.apiKeys.findInOrganization(owner.organizationId, parent.id))?.mintedBy, null);
      assert.equal((await fresh.stores.apiKeys.findInOrganization(owner.organizationId, child.id))?.mintedBy, parent.id);
      assert.equal((await fresh.stores.apiKeys.findByHash(child.keyHash))?.mintedBy, parent.id);
      const listed = (await fresh.stores.apiKeys.listByOrganization(owner.organizationId, { limit: 10 })).keys;
      assert.equal(listed.find((k) => k.id === child.id)?.mintedBy, parent.id);
    });

    it('revokeMintedBy revokes exactly the unrevoked keys of the organization minted by the given ids, and answers them', async () => {
      const owner = await newUser();
      const stranger = await newUser();
      const [p1, p2, other] = [newKey(owner), newKey(owner), newKey(owner)];
      for (const k of [p1, p2, other]) await fresh.stores.apiKeys.insertApiKey(k);
      const live1 = newKey(owner, { mintedBy: p1.id });
      const live2 = newKey(owner, { mintedBy: p2.id });
      const expired = newKey(owner, { mintedBy: p1.id, expiresAt: clock.now() - 1 });
      const alreadyRevoked = newKey(owner, { mintedBy: p1.id });
      const grandchild = newKey(owner, { mintedBy: live1.id });
      const unrelated = newKey(owner, { mintedBy: other.id });
      // Ids are unique, so this only happens through a bug elsewhere: the organization still bounds the update.
      const foreign = newKey(stranger, { mintedBy: p1.id });
      for (const k of [live1, live2, expired, alreadyRevoked, grandchild, unrelated, foreign]) await fresh.stores.apiKeys.insertApiKey(k);
      await fresh.stores.apiKeys.revokeApiKey(owner.organizationId, alreadyRevoked.id, clock.now() - 5);

      const result = await fresh.stores.apiKeys.revokeMintedBy(owner.organizationId, [p1.id, p2.id], clock.now());
      assert.deepEqual(result.revoked.map((k) => k.id).sort(), [live1.id, live2.id, expired.id].sort());
      assert.ok(result.revoked.every((k) => k.revokedAt === clock.now()));
      assert.deepEqual([...result.minted].sort(), [live1.id, live2.id, expired.id, alreadyRevoked.id].sort(), 'every key they minted, for the next generation');
      const revokedAt = async (org: OrgId, id: ApiKeyId) => (await fresh.stores.apiKeys.findInOrganization(org, id))?.revokedAt;
      assert.equal(await revokedAt(owner.organizationId, alreadyRevoked.id), clock.now() - 5, 'an earlier revocation stays');
      for (const k of [p1, p2, other, grandchild, unrelated]) assert.equal(await revokedAt(owner.organizationId, k.id), null, 'parents, other generations and other parents are left alone');
      assert.equal(await revokedAt(stranger.organizationId, foreign.id), null, 'another organization is left alone');

      const again = await fresh.stores.apiKeys.revokeMintedBy(owner.organizationId, [p1.id, p2.id], clock.now() + 1);
      assert.deepEqual(again.revoked, [], 'nothing is revoked twice');
      assert.deepEqual(await fresh.stores.apiKeys.revokeMintedBy(owner.organizationId, [], clock.now()), { revoked: [], minted: [] });
    });

    it('revokeMintedBy: of 5 concurrent calls for the same parent, each minted key is answered by exactly one', async () => {
      const owner = await newUser();
      const parent = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(parent);
      const children = Array.from({ length: 6 }, () => newKey(owner, { mintedBy: parent.id }));
      for (const k of children) await fresh.stores.apiKeys.insertApiKey(k);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => fresh.stores.transaction((s) => s.apiKeys.revokeMintedBy(owner.organizationId, [parent.id], clock.now()))),
      );
      const answered = results.flatMap((r) => r.revoked.map((k) => k.id));
      assert.deepEqual(answered.sort(), children.map((k) => k.id).sort());
    });

    it('usage: 20 concurrent flushes of overlapping batches add up exactly, and last use only moves forward', async () => {
      const owner = await newUser();
      const keys = [newKey(owner), newKey(owner), newKey(owner)];
      for (const k of keys) await fresh.stores.apiKeys.insertApiKey(k);
      const routes = ['GET /api/v1/agents', 'POST /api/v1/agents/:id/verify-action', 'GET /api/v1/api-keys'];
      const days = ['2026-01-01', '2026-01-02'];
      const expected = new Map<string, number>();
      const batches = Array.from({ length: 20 }, (_, n) => {
        const counts: UsageCount[] = [];
        for (const k of keys) for (const day of days) for (const route of routes) {
          const requests = 1 + ((n * 7 + route.length + day.length) % 5);
          counts.push({ keyId: k.id, day, route, requests });
          const slot = `${k.id} ${day} ${route}`;
          expected.set(slot, (expected.get(slot) ?? 0) + requests);
        }
        // Each batch lists its rows in a different order; the store must not deadlock on it.
        if (n % 2) counts.reverse();
        const lastUses = keys.map((k) => ({ keyId: k.id, at: 5000 + n, ip: `10.0.0.${n}` }));
        return { counts, lastUses };
      });
      await Promise.all(batches.map((b) => fresh.stores.apiKeys.addUsage(b.counts, b.lastUses)));

      const rows = await fresh.database.db.selectFrom('api_key_usage').selectAll().where('key_id', 'in', keys.map((k) => k.id)).execute();
      assert.equal(rows.length, keys.length * days.length * routes.length);
      for (const row of rows) assert.equal(Number(row.requests), expected.get(`${row.key_id} ${row.day} ${row.route}`));
      for (const k of keys) {
        const found = await fresh.stores.apiKeys.findInOrganization(owner.organizationId, k.id);
        assert.equal(found?.lastUsedAt, 5019);
        assert.equal(found?.lastUsedIp, '10.0.0.19');
      }
      await fresh.stores.apiKeys.addUsage([], [{ keyId: keys[0]!.id, at: 10, ip: '192.0.2.1' }]);
      assert.equal((await fresh.stores.apiKeys.findInOrganization(owner.organizationId, keys[0]!.id))?.lastUsedAt, 5019, 'an older flush does not move it back');
    });

    it('usage reports sum per day and per route from a given day', async () => {
      const owner = await newUser();
      const key = newKey(owner);
      await fresh.stores.apiKeys.insertApiKey(key);
      await fresh.stores.apiKeys.addUsage(
        [
          { keyId: key.id, day: '2026-01-01', route: 'GET /a', requests: 5 },
          { keyId: key.id, day: '2026-01-02', route: 'GET /a', requests: 2 },
          { keyId: key.id, day: '2026-01-02', route: 'POST /b', requests: 3 },
          { keyId: key.id, day: '2026-01-03', route: 'POST /b', requests: 4 },
        ],
        [],
      );
      assert.deepEqual(await fresh.stores.apiKeys.usageOf(key.id, '2026-01-02'), {
        total: 9,
        days: [
          { day: '2026-01-02', requests: 5 },
          { day: '2026-01-03', requests: 4 },
        ],
        routes: [
          { route: 'POST /b', requests: 7 },
          { route: 'GET /a', requests: 2 },
        ],
      });
      assert.deepEqual(await fresh.stores.apiKeys.usageOf(uuid() as ApiKeyId, '2026-01-01'), { total: 0, days: [], routes: [] });
    });

    it('usage pruning deletes the days before the cutoff for every key, keeps the rest, and runs concurrently', async () => {
      const owner = await newUser();
      const [a, b] = [newKey(owner), newKey(owner)];
      for (const k of [a, b]) await fresh.stores.apiKeys.insertApiKey(k);
      const rows = (k: NewApiKey, day: string): UsageCount[] => [
        { keyId: k.id, day, route: 'GET /a', requests: 1 },
        { keyId: k.id, day, route: 'POST /b', requests: 2 },
      ];
      await fresh.stores.apiKeys.addUsage(
        [...rows(a, '1999-12-30'), ...rows(a, '1999-12-31'), ...rows(b, '1999-12-31'), ...rows(a, '2000-01-01'), ...rows(b, '2000-01-02')],
        [],
      );
      // Other tests of this file share the table with later days only; two nodes pruning at once delete each row once.
      const deleted = await Promise.all([fresh.stores.apiKeys.pruneUsage('2000-01-01'), fresh.stores.apiKeys.pruneUsage('2000-01-01')]);
      assert.equal(deleted[0] + deleted[1], 6);
      assert.deepEqual((await fresh.stores.apiKeys.usageOf(a.id, '1900-01-01')).days, [{ day: '2000-01-01', requests: 3 }]);
      assert.deepEqual((await fresh.stores.apiKeys.usageOf(b.id, '1900-01-01')).days, [{ day: '2000-01-02', requests: 3 }]);
      assert.equal(await fresh.stores.apiKeys.pruneUsage('2000-01-01'), 0, 'nothing left before the cutoff');
    });
  });
}
