import { SETTINGS } from './schema.js';

/** The README's configuration table, generated from the schema (`npm run docs`). */
export function configTable(): string {
  const rows = Object.values(SETTINGS).map(
    (s) => `| \`${s.env}\` | ${s.default === undefined ? 'unset' : `\`${s.default}\``} | ${s.doc.replace(/\|/g, '\\|')} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
