/**
 * `tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a --cpu-prof profile spent its time, by function
 * (self time) and by package, so a hot path can be named without opening DevTools.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/packages/server/dist/')) return `aim:${url.split('/packages/server/dist/')[1]}`;
  if (url.startsWith('node:')) return url;
  return url ? url.split('/').slice(-2).join('/') : '(native)';
};

const functions = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, time] of self) {
  const node = byId.get(id)!;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + time);
  const pkg = url.includes('/packages/server/dist/') ? 'aim' : where(url);
  packages.set(pkg, (packages.get(pkg) ?? 0) + time);
}
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
};
// Inclusive time: each node's self time plus its descendants', summed per function (recursion counted once per path).
const inclusive = new Map<string, number>();
const keyOf = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
for (const [id, time] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = keyOf(byId.get(cur)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + time);
  }
}
print('self time by function', functions);
print('total time (self + callees) by function', inclusive);
print('self time by package', packages);
