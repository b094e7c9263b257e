import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HttpClient } from './http.js';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface ServerProcess {
  url: string;
  http: HttpClient;
  lines: string[];
  pid: number;
  /** Sends `signal` and answers the exit code (null when the signal killed it) once the process is gone. */
  signal(signal: NodeJS.Signals): Promise<number | null>;
  /** Resident memory of the server process, from /proc (Linux), in bytes. */
  rss(): number;
  /** Whether the process is still running. */
  alive(): boolean;
  /** SIGKILL: no shutdown hooks, no flush, as in a power cut or an OOM kill. Resolves once the process is gone. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface ProcessOptions {
  /** Flags for node before the script, such as `--cpu-prof`. */
  nodeArgs?: string[];
  /** false: drop log lines once the server listens (benchmarks). Default true. */
  keepLines?: boolean;
  /** How long start-up may take; default 60 s (a loaded machine, or a benchmark's large store takes longer). */
  startTimeoutMs?: number;
}

/**
 * Starts the built server (`node packages/server/dist/bin.js`, what `npm start` runs) as a process of its own with
 * only the given environment, and waits until it listens. Its log lines join the suite's log for the secret scan.
 */
export async function startServerProcess(env: Record<string, string>, options: ProcessOptions = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', AIM_HOST: '127.0.0.1', AIM_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test file that ends (or crashes) never leaves a server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  const lines: string[] = [];
  const logFile = process.env.AIM_TEST_LOG_FILE;
  let listening = false;
  const collect = (line: string) => {
    // Benchmarks keep only the start-up lines: a long load would otherwise pile up every request's log line.
    if (listening && options.keepLines === false) return;
    lines.push(line);
    if (logFile) appendFileSync(logFile, `${line}\n`);
  };
  createInterface({ input: child.stderr! }).on('line', collect);
  const url = await new Promise<string>((resolve, reject) => {
    // A server that never says it listens is killed, or its pipes would keep the test file alive forever.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${lines.join('\n')}`));
    }, options.startTimeoutMs ?? 60_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${lines.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      collect(line);
      const parsed = parse(line);
      if (parsed?.msg === 'AIM is listening' && typeof parsed.address === 'string') {
        clearTimeout(timer);
        listening = true;
        resolve(parsed.address);
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    url,
    http: new HttpClient(url),
    lines,
    pid: child.pid!,
    signal: (name) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
      return exited;
    },
    rss: () => residentBytes(child.pid!),
    alive: () => child.exitCode === null && child.signalCode === null,
    kill: () => kill(child),
    stop: () => stop(child),
  };
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function residentBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}
