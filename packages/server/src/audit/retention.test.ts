import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { scheduleRetention } from './retention.js';
import type { AuditService } from './service.js';

function fakeService(prune: () => Promise<{ organizations: number; deleted: number }>) {
  return { prune } as unknown as AuditService;
}

describe('audit retention schedule', () => {
  it('prunes once at start, then on every tick, and stop() waits for a run in progress', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const service = fakeService(() => {
      calls += 1;
      return new Promise((resolve) => (release = () => resolve({ organizations: 1, deleted: 2 })));
    });
    const job = scheduleRetention(service, pino({ level: 'silent' }), 60_000);
    assert.equal(calls, 1, 'ran at start');
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'waits for the run');
    release();
    await stopping;
    assert.equal(calls, 1);
  });

  it('a failed run is logged, not thrown, and the next tick runs again', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    let calls = 0;
    const job = scheduleRetention(
      fakeService(async () => {
        calls += 1;
        throw new Error('database away');
      }),
      logger,
      5,
    );
    await new Promise((r) => setTimeout(r, 30));
    await job.stop();
    assert.ok(calls >= 2, `ran ${calls} times`);
    assert.ok(logged.some((l) => l.includes('audit retention failed')));
  });
});
