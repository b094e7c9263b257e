import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALERT_TYPES } from '@aim/protocol';

describe('alert types', () => {
  it('every type is documented in the README, with who it names and when it is raised', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Alerts and webhooks')[1]?.split('\n## ')[0] ?? '';
    for (const type of ALERT_TYPES) assert.match(section, new RegExp(`^\\| \`${type}\` \\| [^|]+ \\| [^|]+ \\|$`, 'm'), `${type} is not in the README table`);
  });
});
