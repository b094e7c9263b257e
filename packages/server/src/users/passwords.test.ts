import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AimError } from '../core/errors.js';
import { PasswordHasher, hashPassword } from './passwords.js';

describe('PasswordHasher', () => {
  it('runs at most `concurrency` hashes at once and refuses past `maxQueued` waiting, at once', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const hasher = new PasswordHasher({ concurrency: 1, maxQueued: 2 });
    const peaks: number[] = [];
    const check = (password: string) =>
      hasher.verify(stored, password).then((ok) => {
        peaks.push(hasher.load().active);
        return ok;
      });
    const running = [check('correct horse battery staple'), check('wrong'), check('correct horse battery staple')];
    await Promise.resolve();
    assert.deepEqual(hasher.load(), { active: 1, queued: 2 });
    await assert.rejects(hasher.verify(stored, 'one too many'), (error: unknown) => {
      assert.ok(error instanceof AimError);
      assert.equal(error.code, 'service_unavailable');
      assert.equal(error.status, 503);
      assert.deepEqual(error.headers, { 'retry-after': '1' });
      return true;
    });
    assert.deepEqual(await Promise.all(running), [true, false, true]);
    assert.ok(peaks.every((active) => active <= 1), `active at completion: ${peaks}`);
    assert.deepEqual(hasher.load(), { active: 0, queued: 0 });
    assert.equal(await hasher.verify(stored, 'correct horse battery staple'), true, 'room again once the queue drained');
  });

  it('hashes verify with the unguarded check and a malformed hash answers false', async () => {
    const hasher = new PasswordHasher({ concurrency: 2 });
    const stored = await hasher.hash('another long password');
    assert.equal(await hasher.verify(stored, 'another long password'), true);
    assert.equal(await hasher.verify('not-a-hash', 'another long password'), false);
  });
});
