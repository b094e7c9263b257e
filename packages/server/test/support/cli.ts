import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm test` builds it first), run the way a user runs it. */
export const CLI_BIN = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { stdin?: string; env?: Record<string, string>; maxFileKiB?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...options.env };
    // `maxFileKiB`: no file it writes may grow past this (RLIMIT_FSIZE; Node then gets EFBIG, as on a full disk).
    const child =
      options.maxFileKiB === undefined
        ? spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn('bash', ['-c', `ulimit -f ${options.maxFileKiB} && exec "$0" "$@"`, process.execPath, CLI_BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // A command that exits before reading its stdin (a refusal up front) closes the pipe: EPIPE here is no failure.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
