import { chmodSync, statSync } from 'node:fs';

/**
 * Narrows an existing file to 0600. Creating a file with a mode does nothing to one that already exists, so a
 * database or key file left 0644 by an older version stays readable by everyone on the host unless changed here.
 * A missing file is left missing.
 */
export function restrictToOwner(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (mode !== 0o600) chmodSync(file, 0o600);
}
