import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DECISION_REASONS, isCapability, splitCapability } from '@aim/protocol';
import { capabilityDecision } from './capabilities.js';

const decide = (capabilities: string[], action: string, resource: string) => capabilityDecision(capabilities, action, resource);

describe('capability grammar', () => {
  it('accepts actions as before, with or without a resource constraint', () => {
    for (const c of ['search', 'files:read', 'files:*', '*', 'a.b-c_d:e', 'files:read@/reports/*', 'payments:send@acct-42', 'files:*@/tmp/*', '*@/public/*', 'files:read@*', 'mail:send@user@example.com', 'docs:read@/My Reports/q3 final.pdf', 'files:read@/ünïcode/*', 'kv:get@a*']) {
      assert.ok(isCapability(c), c);
    }
  });

  it('refuses malformed actions, empty or hostile constraints and overlong strings', () => {
    const bad = [
      '', '@/x', 'files:read@', 'files:read@/a:b', 'files:read@/a*b', 'files:read@**', 'files:read@/a/**', 'files:read@*x',
      'files:read@/a\u0000', 'files:read@/a\n', 'files:read@/a\u007f', 'files:read@/a\u0085', 'files:read@/a\u202eb', 'files:read@/a\u2066',
      'files:*:read@/x', 'files:@/x', ':files@/x', 'files read@/x', 'fi/les@/x', '*:*@/x', `files:read@/${'a'.repeat(512)}`,
    ];
    for (const c of bad) assert.equal(isCapability(c), false, JSON.stringify(c));
    assert.ok(isCapability(`files:read@/${'a'.repeat(512 - 'files:read@/'.length)}`));
    assert.ok(isCapability(`files:read@/${'😀'.repeat(512 - 'files:read@/'.length)}`), 'counted in characters, like the schema');
  });

  it('splits at the first @: the action never holds one, a resource may', () => {
    assert.deepEqual(splitCapability('files:read'), { action: 'files:read', resource: null });
    assert.deepEqual(splitCapability('files:read@*'), { action: 'files:read', resource: null });
    assert.deepEqual(splitCapability('files:read@/reports/*'), { action: 'files:read', resource: { value: '/reports/', prefix: true } });
    assert.deepEqual(splitCapability('mail:send@a@b.c'), { action: 'mail:send', resource: { value: 'a@b.c', prefix: false } });
  });
});

describe('capability decision', () => {
  it('plain capabilities cover any resource, as before', () => {
    assert.equal(decide(['files:read'], 'files:read', '/anything'), 'capability_granted');
    assert.equal(decide(['files:*'], 'files:read:meta', 'x'), 'capability_granted');
    assert.equal(decide(['*'], 'a', 'b'), 'capability_granted');
    assert.equal(decide(['files:read@*'], 'files:read', '/etc/passwd'), 'capability_granted');
    assert.equal(decide(['files:read'], 'files:write', '/x'), 'capability_missing');
    assert.equal(decide([], 'files:read', '/x'), 'capability_missing');
  });

  it('a prefix constraint covers resources starting with it, and only those', () => {
    const caps = ['files:read@/reports/*'];
    assert.equal(decide(caps, 'files:read', '/reports/q3.pdf'), 'capability_granted');
    assert.equal(decide(caps, 'files:read', '/reports/'), 'capability_granted');
    assert.equal(decide(caps, 'files:read', '/reports'), 'resource_not_allowed');
    assert.equal(decide(caps, 'files:read', '/reports-old/x'), 'resource_not_allowed');
    assert.equal(decide(caps, 'files:read', '/Reports/q3.pdf'), 'resource_not_allowed');
    assert.equal(decide(caps, 'files:write', '/reports/q3.pdf'), 'capability_missing');
    assert.equal(decide(['files:read@/reports*'], 'files:read', '/reports-old/x'), 'capability_granted');
  });

  it('a prefix grant is not escaped with dot-dot segments, plain or percent-encoded', () => {
    const caps = ['files:read@/reports/*'];
    for (const r of ['/reports/../secrets', '/reports/..', '/reports/a/../../b', '/reports/%2e%2e/x', '/reports/.%2E/x', '/reports/..\\x']) {
      assert.equal(decide(caps, 'files:read', r), 'resource_not_allowed', r);
    }
    assert.equal(decide(['files:read@/reports/.*'], 'files:read', '/reports/../x'), 'resource_not_allowed', 'a segment across the prefix end');
    assert.equal(decide(['files:read@/reports/*'], 'files:read', '/reports/../reports/x'), 'resource_not_allowed');
    assert.equal(decide(['files:read@/reports/../x'], 'files:read', '/reports/../x'), 'capability_granted', 'exact grants compare as-is');
    // Encoded separators and double encoding: a relying service that decodes (once or twice) sees `/reports/../x`.
    for (const r of ['/reports/..%2fsecrets', '/reports/%2E%2E%2Fsecrets', '/reports/..%5csecrets', '/reports/%252e%252e/x', '/reports/..%252fx', '/reports/\uff0e\uff0e/x', '/reports/..\uff0fx']) {
      assert.equal(decide(caps, 'files:read', r), 'resource_not_allowed', r);
    }
    assert.equal(decide(caps, 'files:read', '/reports/%zz..%2'), 'capability_granted', 'stray percent signs are just characters');
    assert.equal(decide(caps, 'files:read', '/reports/..hidden'), 'capability_granted');
    assert.equal(decide(caps, 'files:read', '/reports/a..b/c'), 'capability_granted');
  });

  it('an exact constraint covers that resource only, case-sensitively', () => {
    const caps = ['payments:send@acct-42'];
    assert.equal(decide(caps, 'payments:send', 'acct-42'), 'capability_granted');
    assert.equal(decide(caps, 'payments:send', 'acct-421'), 'resource_not_allowed');
    assert.equal(decide(caps, 'payments:send', 'ACCT-42'), 'resource_not_allowed');
    assert.equal(decide(caps, 'payments:send', 'acct-42 '), 'resource_not_allowed');
  });

  it('any one capability covering both decides; constraints on wildcard actions work', () => {
    const caps = ['files:read@/reports/*', 'files:read@/shared/readme.txt', 'files:*@/tmp/*', '*@/public/*'];
    assert.equal(decide(caps, 'files:read', '/shared/readme.txt'), 'capability_granted');
    assert.equal(decide(caps, 'files:delete', '/tmp/x'), 'capability_granted');
    assert.equal(decide(caps, 'payments:send', '/public/x'), 'capability_granted');
    assert.equal(decide(caps, 'payments:send', '/private/x'), 'resource_not_allowed');
    assert.equal(decide(['files:read@/a/*', 'files:read'], 'files:read', '/b'), 'capability_granted');
  });

  it('every decision reason is documented in the README', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    for (const reason of DECISION_REASONS) assert.ok(readme.includes(`reason: ${reason}`), `${reason} is not in the README`);
  });
});
