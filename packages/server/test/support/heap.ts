import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerProcess } from './process.js';

/** Node flags that let `liveHeapBytes` ask a server process for heap snapshots, written to a fresh directory. */
export function heapSnapshotFlags(): { dir: string; nodeArgs: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'aim-heap-'));
  return { dir, nodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] };
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
}

/**
 * The server's live JavaScript heap in bytes, from a heap snapshot: V8 collects garbage before taking one, so this
 * counts only what is still reachable. A leak shows here long before it shows in resident memory, which also holds
 * garbage not yet collected and pages the allocator keeps. Taking a snapshot leaves resident memory higher for good
 * (its buffers), so callers sample resident memory before the first one or compare only samples taken after it.
 */
export async function liveHeapBytes(server: ServerProcess, flags: { dir: string }): Promise<number> {
  const before = new Set(readdirSync(flags.dir));
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    // The snapshot is written on the server's main thread: a request answered after the signal means it is done.
    await server.http.get('/health', { timeoutMs: 120_000 });
    const file = readdirSync(flags.dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (file) {
      const path = join(flags.dir, file);
      try {
        const snapshot = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
        rmSync(path);
        return selfSizeTotal(snapshot);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
      }
    }
    if (Date.now() > deadline) throw new Error('the server wrote no heap snapshot within two minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function selfSizeTotal({ snapshot, nodes }: Snapshot): number {
  const fields = snapshot.meta.node_fields;
  const offset = fields.indexOf('self_size');
  let total = 0;
  for (let i = offset; i < nodes.length; i += fields.length) total += nodes[i]!;
  return total;
}
