import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CredentialFile, writeFileAtomic } from '@aim/sdk/node';

/** Replaces fs.promises.open (what the SDK's file code calls) for one test, logging opens, flushes and renames. */
async function withFsLog<T>(open: (real: typeof fsp.open, path: string, flags?: string | number) => Promise<FileHandle>, run: (log: string[]) => Promise<T>): Promise<T> {
  const realOpen = fsp.open;
  const realRename = fsp.rename;
  const log: string[] = [];
  fsp.open = (async (path: string, flags?: string | number, mode?: number) => {
    const handle = await open((p, f) => realOpen(p, f, mode), String(path), flags);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      await sync();
      log.push(`sync ${String(path)}`);
    };
    return handle;
  }) as typeof fsp.open;
  fsp.rename = async (from, to) => {
    await realRename(from, to);
    log.push(`rename ${String(from)} -> ${String(to)}`);
  };
  syncBuiltinESMExports();
  try {
    return await run(log);
  } finally {
    fsp.open = realOpen;
    fsp.rename = realRename;
    syncBuiltinESMExports();
  }
}

describe('credential files are written durably', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'aim-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('flushes the new file before the rename and the directory after it; the file is whole and 0600', async () => {
    const path = join(dir, 'session.json');
    await withFsLog(
      (real, p, f) => real(p, f),
      async (log) => {
        await new CredentialFile<{ refresh_token: string }>(path).write({ refresh_token: 'rt_rotated' });
        const renamed = log.findIndex((line) => line.startsWith('rename ') && line.endsWith(`-> ${path}`));
        assert.ok(renamed > 0, log.join('\n'));
        const temp = log[renamed]!.slice('rename '.length).split(' -> ')[0]!;
        assert.deepEqual(log, [`sync ${temp}`, `rename ${temp} -> ${path}`, `sync ${dir}`]);
      },
    );
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { refresh_token: 'rt_rotated' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('a platform that cannot open or flush a directory (EISDIR, EPERM, EINVAL) still gets the file', async () => {
    for (const code of ['EISDIR', 'EPERM', 'EINVAL']) {
      const path = join(dir, `${code}.json`);
      await withFsLog(
        async (real, p, f) => {
          if (p === dir) throw Object.assign(new Error(`${code}: refused`), { code });
          return real(p, f);
        },
        () => writeFileAtomic(path, 'secret\n'),
      );
      assert.equal(readFileSync(path, 'utf8'), 'secret\n');
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  });
});
