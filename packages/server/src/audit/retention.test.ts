import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { scheduleRetention, type Pruner } from './retention.js';

const pruner = (name: string, prune: Pruner['prune']): Pruner => ({ name, prune });

describe('retention schedule', () => {
  it('prunes once at start, then on every tick, and stop() waits for a run in progress', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const audit = pruner('audit', () => {
      calls += 1;
      return new Promise((resolve) => (release = () => resolve({ deleted: 2 })));
    });
    const job = scheduleRetention([audit], pino({ level: 'silent' }), 60_000);
    assert.equal(calls, 1, 'ran at start');
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(stopped, false, 'waits for the run');
    release();
    await stopping;
    assert.equal(calls, 1);
  });

  it('a failed run is logged, not thrown, does not stop the other pruners, and the next tick runs again', async () => {
    const logged: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) });
    let failing = 0;
    let usage = 0;
    const job = scheduleRetention(
      [
        pruner('audit', async () => {
          failing += 1;
          throw new Error('database away');
        }),
        pruner('API key usage', async () => ({ deleted: (usage += 1) })),
      ],
      logger,
      5,
    );
    await new Promise((r) => setTimeout(r, 30));
    await job.stop();
    assert.ok(failing >= 2, `ran ${failing} times`);
    assert.equal(usage, failing, 'the second pruner ran on every tick although the first failed');
    assert.ok(logged.some((l) => l.includes('audit retention failed')));
  });
});
