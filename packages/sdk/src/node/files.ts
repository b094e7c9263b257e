import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** `$AIM_HOME`, or `~/.aim`: where the CLI keeps its session and agents keep their identities. */
export function aimHome(env: Record<string, string | undefined> = process.env): string {
  return env.AIM_HOME || join(homedir(), '.aim');
}

/** `$AIM_CREDENTIALS_DIR`, or `<aimHome>/credentials`: one 0600 file per agent identity. */
export function credentialsDir(env: Record<string, string | undefined> = process.env): string {
  return env.AIM_CREDENTIALS_DIR || join(aimHome(env), 'credentials');
}

/**
 * Replaces `path` with `data` atomically and durably: written to a temporary file in the same directory (created
 * 0600, so the secret is never readable by others, not even for a moment), flushed to disk, renamed over the target,
 * then the directory flushed too. A reader sees the old file or the new one, never half of either; a crash leaves
 * the old one, and once this resolves a power loss leaves the new one (a rotated refresh token, once lost, signs
 * the user out: the spent one is then "reused").
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await refuseSharedDirectory(dir);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    // Exactly 0600 whatever the umask, set on the open file: nothing is looked up by name that could be swapped.
    await handle.chmod(0o600);
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

/** Flushes `dir`'s entries (the rename), best effort where a directory cannot be opened or flushed. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Windows refuses to open a directory (EISDIR, EPERM); some file systems refuse to flush one (EINVAL).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Refuses a directory others may write to (like ssh's StrictModes): whoever can write there can replace a
 * credential file with their own, pointing this client at their server, or swap it between a write and a read.
 * A sticky directory (/tmp) is allowed: there, only a file's owner may rename or delete it.
 */
async function refuseSharedDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let mode: number;
  try {
    mode = (await stat(dir)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) throw new Error(`${dir} is writable by others (mode ${(mode & 0o777).toString(8)}); run chmod 700 on it`);
}

/** A JSON file holding secrets: read only when nobody else can read it, replaced atomically, updates serialized. */
export class CredentialFile<T extends object> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The contents, or undefined when the file does not exist. Refuses a file others can read (like ssh does). */
  async read(): Promise<T | undefined> {
    let text: string;
    await refuseSharedDirectory(dirname(this.path));
    try {
      const info = await stat(this.path);
      if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
        throw new Error(`${this.path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`);
      }
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as T;
  }

  /** Replaces the file with `value` (atomically, 0600). */
  write(value: T): Promise<void> {
    return this.serial(() => writeFileAtomic(this.path, `${JSON.stringify(value, null, 2)}\n`));
  }

  /** Reads, changes and writes back, one update at a time within this process. */
  update(change: (current: T | undefined) => T): Promise<T> {
    return this.serial(async () => {
      const next = change(await this.read());
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
      return next;
    });
  }

  async remove(): Promise<boolean> {
    return this.serial(async () => {
      try {
        await unlink(this.path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    });
  }

  private serial<R>(task: () => Promise<R>): Promise<R> {
    const run = this.queue.then(task, task);
    // Settles to nothing: the queue must not keep the last value written (a secret) where util.inspect shows it.
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/**
 * A refresh token (SDK token or session) kept in a 0600 JSON file, replaced atomically on every rotation: give it
 * as the client's `store`, and `load()` it in the next process.
 *
 * @example
 * ```ts
 * const file = refreshTokenFile(join(aimHome(), 'sdk-token.json'));
 * const aim = new AIMClient({ baseUrl, auth: { sdkToken: (await file.load()) ?? process.env.AIM_SDK_TOKEN!, store: file } });
 * ```
 */
export function refreshTokenFile(path: string): { path: string; load(): Promise<string | undefined>; save(refreshToken: string): Promise<void> } {
  const file = new CredentialFile<{ refresh_token: string; saved_at: number }>(path);
  return {
    path,
    load: async () => (await file.read())?.refresh_token,
    save: (refreshToken) => file.write({ refresh_token: refreshToken, saved_at: Date.now() }),
  };
}
