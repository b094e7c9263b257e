import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { auditHashInput, GENESIS_HASH } from '@aim/protocol';

const BATCH = 5_000;
const DAY = 86_400_000;

/**
 * Fills a stopped server's SQLite store with agents (each with its own Ed25519 key) and audit entries, in batched
 * transactions. Audit entries continue the organization's hash chain exactly as the server's append does
 * (seq + 1, prev_hash = the previous hash, hash = SHA-256 of auditHashInput), so the chain stays valid.
 */
export function seedSqlite(dataDir: string, options: { organizationId: string; userId: string; agents: number; auditEntries: number }): void {
  const db = new SQLite(join(dataDir, 'aim.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    const now = Date.now();
    const agent = db.prepare(
      `insert into agents (id, organization_id, name, type, description, capabilities, status, created_by, created_at, updated_at)
       values (?, ?, ?, 'agent', null, '["files:*","search"]', 'active', ?, ?, ?)`,
    );
    const key = db.prepare(
      `insert into agent_keys (id, agent_id, organization_id, public_key, created_at, expires_at, grace_until, replaced_by, revoked_at)
       values (?, ?, ?, ?, ?, ?, null, null, null)`,
    );
    const agentIds: string[] = [];
    const insertAgents = db.transaction((count: number, offset: number) => {
      for (let i = 0; i < count; i += 1) {
        const id = randomUUID();
        const createdAt = now - (options.agents - offset - i);
        const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
        agent.run(id, options.organizationId, `seeded-${offset + i}`, options.userId, createdAt, createdAt);
        key.run(randomUUID(), id, options.organizationId, raw, createdAt, createdAt + 90 * DAY);
        agentIds.push(id);
      }
    });
    for (let done = 0; done < options.agents; done += BATCH) insertAgents(Math.min(BATCH, options.agents - done), done);

    const last = db
      .prepare('select seq, hash from audit_log where organization_id = ? order by seq desc limit 1')
      .get(options.organizationId) as { seq: number; hash: string } | undefined;
    let seq = last?.seq ?? 0;
    let prevHash = last?.hash ?? GENESIS_HASH;
    const audit = db.prepare(
      `insert into audit_log (id, organization_id, seq, event, actor_type, actor_id, subject_type, subject_id, ip, data, created_at, prev_hash, hash)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertAudit = db.transaction((count: number) => {
      for (let i = 0; i < count; i += 1) {
        seq += 1;
        const subject = agentIds.length > 0 ? agentIds[seq % agentIds.length]! : options.organizationId;
        const entry = {
          id: randomUUID(),
          organization_id: options.organizationId,
          seq,
          event: 'action.verified',
          actor_type: 'user',
          actor_id: options.userId,
          subject_type: 'agent',
          subject_id: subject,
          ip: '127.0.0.1',
          data: { verification_id: randomUUID(), action: 'files:read', resource: '/data/report.csv', key_id: null, reason: 'capability_granted' },
          // One timestamp for the lot: after every earlier entry, before every later one, so the chain stays in time order.
          created_at: now,
          prev_hash: prevHash,
        };
        const hash = createHash('sha256').update(auditHashInput(entry), 'utf8').digest('hex');
        audit.run(
          entry.id, entry.organization_id, entry.seq, entry.event, entry.actor_type, entry.actor_id, entry.subject_type,
          entry.subject_id, entry.ip, JSON.stringify(entry.data), entry.created_at, entry.prev_hash, hash,
        );
        prevHash = hash;
      }
    });
    for (let done = 0; done < options.auditEntries; done += BATCH) insertAudit(Math.min(BATCH, options.auditEntries - done));
  } finally {
    db.close();
  }
}
