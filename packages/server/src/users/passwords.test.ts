import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AimError } from '../core/errors.js';
import { personalWords, tooEasyToGuess } from './password-strength.js';
import { PasswordHasher, hashPassword } from './passwords.js';
import { checkPasswordPolicy } from './service.js';

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

describe('password policy (NIST SP 800-63B: length, and nothing common or guessable)', () => {
  it('refuses common passwords, sequences, keyboard walks, repeats and years, however long', () => {
    for (const weak of ['password1234', 'Password123!', 'qwertyuiop12', '123456789012', 'aaaaaaaaaaaa', 'letmein12345', 'iloveyou2024!', 'abcdefghijkl']) {
      assert.equal(tooEasyToGuess(weak), true, weak);
    }
  });

  it('accepts passphrases and random strings without composition rules', () => {
    for (const strong of ['correct horse battery staple', 'a long enough password 1', 'tram-lumen-oxbow-9', 'Xk4$pq9!Lm2z']) {
      assert.equal(tooEasyToGuess(strong), false, strong);
    }
  });

  it("refuses a password built from the person's own email, which a targeted attacker tries first", () => {
    const email = 'margarethamilton@apollo.example';
    assert.deepEqual(personalWords(email), [email, 'margarethamilton', 'apollo', 'example']);
    assert.deepEqual(personalWords('ada.lovelace-1815@x.io'), ['ada.lovelace-1815@x.io', 'ada.lovelace-1815', 'ada', 'lovelace', '1815']);
    assert.equal(tooEasyToGuess('margarethamilton1', personalWords(email)), true);
    assert.equal(tooEasyToGuess('margarethamilton1'), false, 'strong enough for anyone else');
  });

  it('answers 400 invalid_request saying why, after the length rules', () => {
    const code = (password: string, email?: string) => {
      try {
        checkPasswordPolicy(password, email);
        return 'accepted';
      } catch (error) {
        assert.ok(error instanceof AimError);
        return `${error.code}: ${error.message}`;
      }
    };
    assert.match(code('short'), /^invalid_request: password must be at least 12 characters/);
    assert.match(code('x'.repeat(1025)), /^invalid_request: password must be at most 1024 characters/);
    assert.match(code('password1234'), /^invalid_request: password is too easy to guess/);
    assert.equal(code('correct horse battery staple', 'someone@example.com'), 'accepted');
    // Only the first 256 characters are scored (zxcvbn's own bound), so a 1,024-character password costs little.
    assert.equal(code('q7'.repeat(512)), 'invalid_request: password is too easy to guess (a common password, a keyboard or number sequence, a repeat, or built from your email): a few unrelated words make a strong one');
  });
});
