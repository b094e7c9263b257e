import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { restrictToOwner } from './private-files.js';

describe('restrictToOwner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aim-private-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fileWithMode = (name: string, mode: number) => {
    const file = join(dir, name);
    writeFileSync(file, 'x');
    chmodSync(file, mode);
    return file;
  };
  const modeOf = (file: string) => statSync(file).mode & 0o777;

  it('takes group and other permissions away, keeping the owner\'s', () => {
    for (const [mode, expected] of [[0o644, 0o600], [0o666, 0o600], [0o640, 0o600], [0o604, 0o600], [0o755, 0o700]] as const) {
      const file = fileWithMode(`wide-${mode.toString(8)}`, mode);
      restrictToOwner(file);
      assert.equal(modeOf(file), expected, mode.toString(8));
    }
  });

  it('leaves a private file as it is: a read-only 0400 key is not made writable', () => {
    for (const mode of [0o600, 0o400]) {
      const file = fileWithMode(`private-${mode.toString(8)}`, mode);
      restrictToOwner(file);
      assert.equal(modeOf(file), mode);
    }
  });

  it('leaves a missing file missing', () => {
    assert.doesNotThrow(() => restrictToOwner(join(dir, 'absent')));
  });
});
