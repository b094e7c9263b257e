// Regenerates the parts of README.md that come from code: the configuration table, the error catalogue and the
// audit events. Each lives between <!-- name:start --> and <!-- name:end --> markers. Run: npm run docs
import { readFileSync, writeFileSync } from 'node:fs';
import { AUDIT_EVENTS, ERROR_STATUS } from '../packages/protocol/src/index.js';
import { configTable } from '../packages/server/src/config/docs.js';

export function generatedSections(): Record<string, string> {
  return {
    config: configTable(),
    errors: ['| code | status |', '| --- | --- |', ...Object.entries(ERROR_STATUS).map(([c, s]) => `| \`${c}\` | ${s} |`)].join('\n'),
    'audit-events': AUDIT_EVENTS.map((e) => `\`${e}\``).join(', '),
  };
}

export function render(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(generatedSections())) {
    const pattern = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!pattern.test(out)) throw new Error(`README.md has no ${name} markers`);
    out = out.replace(pattern, (_m, start: string, end: string) => `${start}\n${body}\n${end}`);
  }
  return out;
}

if (process.argv[1]?.endsWith('docs.ts')) {
  const file = new URL('../README.md', import.meta.url);
  writeFileSync(file, render(readFileSync(file, 'utf8')));
  console.log('README.md regenerated');
}
