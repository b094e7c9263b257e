/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  auth: 4,
  denied: 5,
  notFound: 6,
  unavailable: 7,
} as const;

/** Human text by default, JSON with --json: one place decides. */
export interface Output {
  json: boolean;
  result(value: unknown, human: string): void;
  error(code: string, message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result: (value, human) => {
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
    },
    error: (code, message) => {
      if (json) process.stdout.write(`${JSON.stringify({ error: code, error_description: message })}\n`);
      else process.stderr.write(`aim: ${message}\n`);
    },
  };
}

export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function fail(out: Output, exitCode: number, message: string, code = 'cli_error'): never {
  out.error(code, message);
  throw new CliExit(exitCode);
}

/** A time for people: `YYYY-MM-DD HH:MM:SS` (UTC), or `-`. */
export const when = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '-');

/** Rows under a header, columns padded to their widest cell. */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
