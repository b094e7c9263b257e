// The README is followed literally on a fresh clone: what it generates must be current, its links must land, and
// the commands it gives (`npx aim …`) must exist right after `npm install`.
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { render } from './docs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

test('the generated sections (configuration, errors, audit events) are current: `npm run docs` is a no-op', () => {
  assert.equal(render(readme), readme, 'README.md is stale: run `npm run docs`');
});

test('every #anchor and relative link in the README resolves', () => {
  const prose = readme.replace(/```[\s\S]*?```/g, '');
  // GitHub's slugs: lower case, punctuation dropped except '-' and '_', spaces become '-'.
  const slugs = new Set(
    [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')),
  );
  for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^https?:/.test(target!)) continue;
    if (target!.startsWith('#')) assert.ok(slugs.has(target!.slice(1)), `no heading for ${target}`);
    else assert.ok(existsSync(join(root, target!.split('#')[0]!)), `no file ${target}`);
  }
});

test('every workspace bin is a committed, executable file, so npm links it before the build runs', () => {
  const workspaces = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
  for (const ws of workspaces) {
    const pkg = JSON.parse(readFileSync(join(root, ws, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    for (const [name, target] of Object.entries(pkg.bin ?? {})) {
      const file = join(root, ws, target);
      // npm links bins at install time, before `prepare` builds dist/: a bin inside dist/ is silently not linked.
      assert.ok(!target.replace(/^\.\//, '').startsWith('dist/'), `bin ${name} points into dist/ (${target})`);
      assert.ok(existsSync(file), `bin ${name}: ${target} is missing`);
      accessSync(file, constants.X_OK);
      assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/, `bin ${name} has no node shebang`);
    }
  }
});
