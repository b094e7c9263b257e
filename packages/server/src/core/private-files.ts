import { chmodSync, statSync } from 'node:fs';

/**
 * Takes group and other permissions away from an existing file (0644 → 0600). Creating a file with a mode does
 * nothing to one that already exists, so a database or key file left 0644 by an older version would stay readable
 * by everyone on the host. A file that is already private (0600, or read-only 0400) is left as it is, and a missing
 * one missing. A file that is open to others and cannot be narrowed (another owner, a read-only mount) stops
 * start-up with one line naming it, as ssh refuses a private key others can read.
 */
export function restrictToOwner(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`${file} is readable by others (mode ${mode.toString(8)}) and could not be narrowed (${code}): chmod 600 it`, { cause: error });
  }
}
