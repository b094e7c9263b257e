/** `tsx bench/print-table.ts [results.json]`: the Markdown table of a results file (what the README shows). */
import { readFileSync } from 'node:fs';
import type { Figure } from './lib/figure.js';
import { markdownTable } from './lib/table.js';

const file = process.argv[2] ?? 'bench/results.json';
const { figures } = JSON.parse(readFileSync(file, 'utf8')) as { figures: Figure[] };
process.stdout.write(`${markdownTable(figures)}\n`);
