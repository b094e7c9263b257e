import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUDIT_EXPORT_FORMAT } from '@aim/protocol';
import { DAY, ManualClock, SECOND } from '../../src/core/clock.js';
import { runCli } from '../support/cli.js';
import { STORE_KINDS } from '../support/databases.js';
import { startTestServer, type SignedIn, type TestServer } from '../support/server.js';

interface Entry {
  id: string;
  organization_id: string;
  seq: number;
  event: string;
  actor_type: string;
  actor_id: string | null;
  subject_id: string | null;
  created_at: number;
  data: unknown;
  prev_hash: string;
  hash: string;
}
type Page = { entries: Entry[]; next_cursor: string | null };
type Verdict = { valid: boolean; entries_checked: number; first_bad?: { id: string; seq: number; problem: string } };

const workDir = mkdtempSync(join(tmpdir(), 'aim-audit-export-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

for (const store of STORE_KINDS) {
  describe(`audit log API (${store})`, () => {
    const clock = new ManualClock(Date.now());
    let t: TestServer;
    before(async () => {
      t = await startTestServer({ store, clock });
    });
    after(() => t.close());

    /** An organization with a few kinds of events, a second apart. */
    async function busyOrganization(): Promise<SignedIn & { memberId: string }> {
      const admin = await t.signIn({ role: 'admin' });
      clock.advance(SECOND);
      const member = await t.createUser({ role: 'member', organizationId: admin.organizationId });
      for (let i = 0; i < 2; i++) {
        clock.advance(SECOND);
        await t.http.post('/api/v1/public/login', { email: member.email, password: member.password });
      }
      clock.advance(SECOND);
      await t.http.post('/api/v1/auth/refresh', { refresh_token: admin.refreshToken });
      clock.advance(SECOND);
      return { ...admin, memberId: member.id };
    }

    const get = <T = Record<string, unknown>>(path: string, token: string) => t.http.get<T>(path, { token });
    const exportOf = async (token: string) => {
      const res = await get<unknown>('/api/v1/audit-logs/export?format=jsonl', token);
      assert.equal(res.status, 200);
      return res;
    };
    const cliVerify = async (exportText: string) => {
      const file = join(workDir, `${store}-${Math.random().toString(36).slice(2)}.jsonl`);
      writeFileSync(file, exportText);
      return runCli(['audit', 'verify', '--file', file, '--json']);
    };

    it('lists the organization\'s entries newest first, with the chain fields', async () => {
      const o = await busyOrganization();
      const res = await get<Page>('/api/v1/audit-logs', o.accessToken);
      assert.equal(res.status, 200);
      const seqs = res.body.entries.map((e) => e.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a));
      assert.equal(seqs.at(-1), 1);
      assert.ok(res.body.entries.every((e) => e.organization_id === o.organizationId));
      assert.deepEqual(Object.keys(res.body.entries[0]!).sort(), [
        'actor_id', 'actor_type', 'created_at', 'data', 'event', 'hash', 'id', 'ip', 'organization_id', 'prev_hash', 'seq', 'subject_id', 'subject_type',
      ]);
      assert.equal(res.body.next_cursor, null);
      const events = new Set(res.body.entries.map((e) => e.event));
      for (const e of ['organization.created', 'user.created', 'session.created', 'session.refreshed']) assert.ok(events.has(e), e);
    });

    it('filters by actor, event and time, and pages with a cursor', async () => {
      const o = await busyOrganization();
      const all = (await get<Page>('/api/v1/audit-logs?limit=200', o.accessToken)).body.entries;

      const byEvent = (await get<Page>('/api/v1/audit-logs?event=session.created', o.accessToken)).body.entries;
      assert.equal(byEvent.length, all.filter((e) => e.event === 'session.created').length);
      assert.ok(byEvent.length >= 3 && byEvent.every((e) => e.event === 'session.created'));

      const byActor = (await get<Page>(`/api/v1/audit-logs?actor=${o.memberId}`, o.accessToken)).body.entries;
      assert.equal(byActor.length, 2, 'the member signed in twice');
      assert.ok(byActor.every((e) => e.actor_id === o.memberId));

      const subject = all.find((e) => e.subject_id !== null)!.subject_id!;
      const bySubject = (await get<Page>(`/api/v1/audit-logs?subject=${subject}`, o.accessToken)).body.entries;
      assert.ok(bySubject.length > 0);
      assert.equal(bySubject.length, all.filter((e) => e.subject_id === subject).length);
      assert.ok(bySubject.every((e) => e.subject_id === subject));

      const times = all.map((e) => e.created_at).sort((a, b) => a - b);
      const since = times[2]!;
      const until = times[times.length - 2]!;
      const window = (await get<Page>(`/api/v1/audit-logs?since=${since}&until=${until}`, o.accessToken)).body.entries;
      assert.ok(window.length > 0);
      assert.ok(window.every((e) => e.created_at >= since && e.created_at < until));
      assert.equal(window.length, all.filter((e) => e.created_at >= since && e.created_at < until).length);

      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = (await get<Page>(`/api/v1/audit-logs?limit=3${cursor ? `&cursor=${cursor}` : ''}`, o.accessToken)).body;
        assert.ok(page.entries.length <= 3);
        seen.push(...page.entries.map((e) => e.seq));
        cursor = page.next_cursor;
      } while (cursor);
      assert.deepEqual(seen, all.map((e) => e.seq), 'every entry exactly once, newest first');
    });

    it('refuses bad filters with 400 and callers without audit:read with 403', async () => {
      const o = await busyOrganization();
      const hostile = ['event=session.nothing', 'cursor=bm90LWEtY3Vyc29y', 'cursor=%00', 'limit=0', 'limit=201', 'since=yesterday', 'until=-1',
        'since=100000000000000000000', `actor=${'x'.repeat(200)}`, 'actor=%00abc', 'actor=a%20b', 'subject=', `subject=${'x'.repeat(200)}`, "subject=a'--"];
      for (const q of hostile) {
        const res = await get(`/api/v1/audit-logs?${q}`, o.accessToken);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.error, 'invalid_request', q);
      }
      assert.equal((await get('/api/v1/audit-logs/export?format=csv', o.accessToken)).status, 400);
      const member = await t.signIn({ role: 'member', organizationId: o.organizationId });
      for (const path of ['/api/v1/audit-logs', '/api/v1/audit-logs/verify', '/api/v1/audit-logs/export?format=jsonl']) {
        const res = await get(path, member.accessToken);
        assert.equal(res.status, 403, path);
        assert.equal(res.body.error, 'insufficient_scope');
        assert.equal((await t.http.get(path)).status, 401);
      }
      const viewer = await t.signIn({ role: 'viewer', organizationId: o.organizationId });
      assert.equal((await get('/api/v1/audit-logs', viewer.accessToken)).status, 200, 'viewers hold audit:read');
    });

    it('shows nothing of another organization', async () => {
      const a = await busyOrganization();
      const b = await t.signIn({ role: 'admin' });
      const entries = (await get<Page>('/api/v1/audit-logs?limit=200', b.accessToken)).body.entries;
      assert.ok(entries.length > 0);
      assert.ok(entries.every((e) => e.organization_id === b.organizationId));
      assert.equal((await get<Page>(`/api/v1/audit-logs?actor=${a.id}`, b.accessToken)).body.entries.length, 0);
    });

    it('an intact chain verifies on the server and offline from its export', async () => {
      const o = await busyOrganization();
      const verdict = await get<Verdict>('/api/v1/audit-logs/verify', o.accessToken);
      assert.equal(verdict.status, 200);
      assert.equal(verdict.body.valid, true);
      const count = (await get<Page>('/api/v1/audit-logs?limit=200', o.accessToken)).body.entries.length;
      assert.equal(verdict.body.entries_checked, count);

      const exported = await exportOf(o.accessToken);
      assert.match(exported.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      assert.match(exported.headers.get('content-disposition') ?? '', /attachment; filename="aim-audit-.+\.jsonl"/);
      const lines = exported.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines[0], { format: AUDIT_EXPORT_FORMAT, organization_id: o.organizationId, exported_at: clock.now(), anchor: null });
      assert.deepEqual(lines.slice(1).map((e) => e.seq), Array.from({ length: count }, (_, i) => i + 1), 'chain order');

      const cli = await cliVerify(exported.text);
      assert.equal(cli.code, 0, cli.stderr + cli.stdout);
      assert.deepEqual(JSON.parse(cli.stdout), { valid: true, entries_checked: count, anchor: null });
      const human = await runCli(['audit', 'verify'], { stdin: exported.text });
      assert.equal(human.code, 0, 'reads standard input');
      assert.match(human.stdout, new RegExp(`valid: ${count} entries`));
      // A download that failed leaves nothing, or blank lines: never a pass.
      for (const nothing of ['', '\n\n']) {
        const empty = await runCli(['audit', 'verify', '--json'], { stdin: nothing });
        assert.equal(empty.code, 1, JSON.stringify(nothing));
        assert.deepEqual(JSON.parse(empty.stdout), { valid: false, entries_checked: 0, anchor: null, empty: true });
      }
      assert.match((await runCli(['audit', 'verify'], { stdin: '' })).stdout, /INVALID: the input is empty/);
    });

    /** One row of a fresh organization's chain changed directly in the database; both verifiers must name it. */
    const tamperings: Array<[string, (orgId: string, seq: number) => Promise<unknown>, { seq: (k: number) => number; problem: string }]> = [
      [
        'editing',
        (org, seq) => t.server.database.db.updateTable('audit_log').set({ data: JSON.stringify({ email: 'someone-else@example.test' }) })
          .where('organization_id', '=', org).where('seq', '=', seq).execute(),
        { seq: (k) => k, problem: 'hash_mismatch' },
      ],
      [
        'deleting',
        (org, seq) => t.server.database.db.deleteFrom('audit_log').where('organization_id', '=', org).where('seq', '=', seq).execute(),
        { seq: (k) => k + 1, problem: 'sequence_gap' },
      ],
      [
        'reordering',
        async (org, seq) => {
          const db = t.server.database.db;
          const move = (from: number, to: number) => db.updateTable('audit_log').set({ seq: to }).where('organization_id', '=', org).where('seq', '=', from).execute();
          await move(seq, -1);
          await move(seq + 1, seq);
          await move(-1, seq + 1);
        },
        { seq: (k) => k, problem: 'broken_link' },
      ],
    ];

    for (const [name, tamper, expected] of tamperings) {
      it(`${name} one row is reported, at the first bad entry, by /verify and by \`aim audit verify\``, async () => {
        const o = await busyOrganization();
        const k = 4;
        const before = (await get<Page>('/api/v1/audit-logs?limit=200', o.accessToken)).body.entries;
        assert.ok(before.length > k + 2);
        await tamper(o.organizationId, k);

        const verdict = (await get<Verdict>('/api/v1/audit-logs/verify', o.accessToken)).body;
        assert.equal(verdict.valid, false);
        assert.equal(verdict.first_bad?.seq, expected.seq(k));
        assert.equal(verdict.first_bad?.problem, expected.problem);
        assert.equal(verdict.entries_checked, k - 1, 'the entries before it are intact');

        const cli = await cliVerify((await exportOf(o.accessToken)).text);
        assert.equal(cli.code, 1, cli.stderr + cli.stdout);
        const offline = JSON.parse(cli.stdout) as Verdict;
        assert.deepEqual(offline.first_bad, verdict.first_bad);
        assert.equal(offline.valid, false);

        const human = await runCli(['audit', 'verify'], { stdin: (await exportOf(o.accessToken)).text });
        assert.equal(human.code, 1);
        assert.match(human.stdout, new RegExp(`first bad entry seq ${expected.seq(k)} `));
      });
    }

    it('an export edited after download fails offline verification at the edited line', async () => {
      const o = await busyOrganization();
      const lines = (await exportOf(o.accessToken)).text.trimEnd().split('\n');
      const entry = JSON.parse(lines[3]!) as Entry;
      lines[3] = JSON.stringify({ ...entry, actor_id: 'someone-else' });
      const cli = await cliVerify(`${lines.join('\n')}\n`);
      assert.equal(cli.code, 1);
      assert.deepEqual((JSON.parse(cli.stdout) as Verdict).first_bad, { id: entry.id, seq: entry.seq, problem: 'hash_mismatch' });
      const dropped = await cliVerify(`${lines.slice(0, 1).concat(lines.slice(2)).join('\n')}\n`);
      assert.equal(dropped.code, 1, 'the first entry removed: the chain no longer starts at the genesis hash');
      const garbage = await cliVerify(`${lines.slice(0, 3).join('\n')}\nnot json\n`);
      assert.equal(garbage.code, 1);
      assert.equal((JSON.parse(garbage.stdout) as { malformed_line: number }).malformed_line, 4);
    });
  });
}

describe('audit retention (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ clock, env: { AIM_AUDIT_RETENTION_DAYS: '30' } });
  });
  after(() => t.close());

  it('prunes entries past the retention, anchors the chain, records audit.pruned, and the chain still verifies', async () => {
    const admin = await t.signIn({ role: 'admin' });
    for (let i = 0; i < 3; i++) await t.http.post('/api/v1/auth/refresh', { refresh_token: (await t.signIn({ role: 'member', organizationId: admin.organizationId })).refreshToken });
    const old = (await t.http.get<Page>('/api/v1/audit-logs?limit=200', { token: admin.accessToken })).body.entries;

    clock.advance(31 * DAY);
    const fresh = await t.signIn({ role: 'admin', organizationId: admin.organizationId });
    const report = await t.server.services.auditService.prune();
    assert.ok(report.organizations >= 1);
    assert.ok(report.deleted >= old.length);
    assert.deepEqual(await t.server.services.auditService.prune(), { organizations: 0, deleted: 0 }, 'a second run finds nothing');

    const kept = (await t.http.get<Page>('/api/v1/audit-logs?limit=200', { token: fresh.accessToken })).body.entries;
    assert.ok(kept.every((e) => e.created_at >= clock.now() - 30 * DAY));
    assert.ok(!kept.some((e) => old.some((o) => o.id === e.id)));
    const pruned = kept.find((e) => e.event === 'audit.pruned');
    assert.ok(pruned);
    assert.equal(pruned.actor_type, 'system');
    const anchorSeq = Math.max(...old.map((e) => e.seq));
    const anchorHash = old.find((e) => e.seq === anchorSeq)!.hash;
    assert.deepEqual(pruned.data, { deleted: old.length, before: clock.now() - 30 * DAY, retention_days: 30, anchor_seq: anchorSeq, anchor_hash: anchorHash });

    const verdict = (await t.http.get<Verdict>('/api/v1/audit-logs/verify', { token: fresh.accessToken })).body;
    assert.deepEqual(verdict, { valid: true, entries_checked: kept.length });

    const exported = await t.http.get('/api/v1/audit-logs/export?format=jsonl', { token: fresh.accessToken });
    const header = JSON.parse(exported.text.split('\n')[0]!) as { anchor: unknown };
    assert.deepEqual(header.anchor, { seq: anchorSeq, hash: anchorHash });
    const cli = await runCli(['audit', 'verify'], { stdin: exported.text });
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, new RegExp(`after the retention anchor at seq ${anchorSeq}`));

    // The first kept entry deleted: caught against the anchor.
    await t.server.database.db.deleteFrom('audit_log').where('organization_id', '=', admin.organizationId).where('seq', '=', anchorSeq + 1).execute();
    const broken = (await t.http.get<Verdict>('/api/v1/audit-logs/verify', { token: fresh.accessToken })).body;
    assert.deepEqual(broken.first_bad?.problem, 'sequence_gap');
    assert.equal(broken.first_bad?.seq, anchorSeq + 2);
    const offline = await runCli(['audit', 'verify', '--json'], { stdin: (await t.http.get('/api/v1/audit-logs/export', { token: fresh.accessToken })).text });
    assert.equal(offline.code, 1);
    assert.deepEqual((JSON.parse(offline.stdout) as Verdict).first_bad, broken.first_bad);
  });
});
