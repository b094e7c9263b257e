#!/usr/bin/env node
// Runs the whole suite with node:test through tsx. Files are listed explicitly: a test that is not listed here
// does not run, and a listed file that is missing fails the run.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FILES = [
  'packages/protocol/src/audit-chain.test.ts',
  'packages/protocol/src/evidence.test.ts',
  'packages/server/src/config/config.test.ts',
  'packages/server/src/users/passwords.test.ts',
  'packages/server/src/mfa/totp.test.ts',
  'packages/server/src/audit/retention.test.ts',
  'packages/server/src/storage/contract/stores.test.ts',
  'packages/server/src/storage/contract/api-key-store.test.ts',
  'packages/server/src/storage/contract/user-lifecycle.test.ts',
  'packages/server/src/storage/contract/password-resets.test.ts',
  'packages/server/src/audit/export.test.ts',
  'packages/server/src/api-keys/format.test.ts',
  'packages/server/src/agents/capabilities.test.ts',
  'packages/server/src/tokens/jws.test.ts',
  'packages/server/src/core/master-key.test.ts',
  'packages/server/src/core/private-files.test.ts',
  'packages/server/test/flows/sessions.test.ts',
  'packages/server/test/flows/your-sessions.test.ts',
  'packages/server/test/flows/agents.test.ts',
  'packages/server/test/flows/resource-capabilities.test.ts',
  'packages/server/test/flows/oauth.test.ts',
  'packages/server/test/flows/oauth-conformance.test.ts',
  'packages/server/test/flows/operations.test.ts',
  'packages/server/src/storage/contract/mfa-audit.test.ts',
  'packages/server/test/flows/mfa.test.ts',
  'packages/server/test/flows/recent-sign-in.test.ts',
  'packages/server/test/flows/user-lifecycle.test.ts',
  'packages/server/test/flows/password-reset.test.ts',
  'packages/server/test/flows/browser-sessions.test.ts',
  'packages/server/test/flows/master-key-rotation.test.ts',
  'packages/server/test/flows/security-headers.test.ts',
  'packages/server/test/flows/audit.test.ts',
  'packages/server/test/flows/audit-checkpoints.test.ts',
  'packages/server/test/flows/verification-stats.test.ts',
  'packages/server/src/storage/contract/alerts.test.ts',
  'packages/server/src/storage/contract/revocations.test.ts',
  'packages/server/src/storage/contract/signing-keys.test.ts',
  'packages/server/src/storage/contract/sealed-values.test.ts',
  'packages/server/src/storage/contract/transactions.test.ts',
  'packages/server/src/storage/contract/verification-stats.test.ts',
  'packages/server/src/shared-state/counters.test.ts',
  'packages/server/src/rate-limits/limiter.test.ts',
  'packages/server/src/rate-limits/hook.test.ts',
  'packages/server/src/alerts/webhook.test.ts',
  'packages/server/src/alerts/catalogue.test.ts',
  'packages/server/test/flows/rate-limits.test.ts',
  'packages/server/test/flows/login-protection.test.ts',
  'packages/server/test/flows/failed-attempts.test.ts',
  'packages/server/test/flows/rate-limits-cluster.test.ts',
  'packages/server/test/flows/alerts.test.ts',
  'packages/server/test/flows/alert-triggers.test.ts',
  'packages/server/test/flows/cluster.test.ts',
  'packages/server/test/flows/shutdown.test.ts',
  'packages/server/test/flows/faults.test.ts',
  'packages/server/test/flows/deployment.test.ts',
  'packages/server/test/flows/revocation-restart.test.ts',
  'packages/server/test/flows/bad-input.test.ts',
  'packages/server/test/flows/api-keys.test.ts',
  'packages/sdk/test/reauthenticate.test.ts',
  'packages/sdk/test/auth.test.ts',
  'packages/sdk/test/agents.test.ts',
  'packages/sdk/test/secure-race.test.ts',
  'packages/sdk/test/credential-files.test.ts',
  'packages/sdk/test/client-helpers.test.ts',
  'packages/sdk/test/errors.test.ts',
  'packages/sdk/test/rate-limits.test.ts',
  'packages/sdk/test/transport.test.ts',
  'packages/sdk/test/examples.test.ts',
  'packages/sdk/test/browser.test.ts',
  'packages/sdk/test/redaction.test.ts',
  'packages/sdk/test/shared-identity.test.ts',
  'packages/server/test/flows/cli-client.test.ts',
  'packages/server/test/flows/cli-session.test.ts',
  'packages/server/test/flows/seed-examples.test.ts',
  'packages/server/test/flows/web-ui.test.ts',
  'packages/web/test/browser.test.ts',
  'packages/web/test/reset-password.test.ts',
  'packages/web/test/sessions-browser.test.ts',
  'packages/web/test/safeguards-browser.test.ts',
  'packages/web/test/reauth-browser.test.ts',
  'bench/smoke.test.ts',
  'scripts/readme.test.ts',
  'packages/server/test/attacks/fuzz-sqlite.test.ts',
  'packages/server/test/attacks/fuzz-postgres.test.ts',
  'packages/server/test/attacks/crash-safety.test.ts',
  'packages/server/test/attacks/attack-tokens.test.ts',
  'packages/server/test/attacks/attack-cross-org.test.ts',
  'packages/server/test/attacks/attack-input.test.ts',
  'packages/server/test/attacks/attack-signatures.test.ts',
  'packages/server/test/attacks/attack-timing.test.ts',
  'packages/server/test/attacks/attack-reauth.test.ts',
  // Runs last: scans every log line the suite wrote for secrets it created.
  'packages/server/test/flows/log-secrets.test.ts',
];

// `--long` (npm run test:long): the proving ground's long budget (AIM_TEST_LONG=1: more fuzzing, more crash cycles)
// and the suites that only make sense with it, such as the 10-minute soak.
const LONG_FILES = ['packages/server/test/attacks/soak.test.ts'];
const long = process.argv.includes('--long');
if (long) FILES.splice(FILES.length - 1, 0, ...LONG_FILES);

const missing = FILES.filter((f) => !existsSync(f));
if (missing.length > 0) {
  console.error(`test files listed but missing:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}

const only = process.argv.slice(2).filter((a) => a !== '--long');
const files = only.length > 0 ? FILES.filter((f) => only.some((o) => f.includes(o))) : FILES;
const logFile = join(mkdtempSync(join(tmpdir(), 'aim-logs-')), 'suite.log');
writeFileSync(logFile, '');

// The secret scan reads what the other files logged, so it runs after them, in a second node:test run.
// Both runs print TAP; their summary lines are added up and printed once at the end.
const [last] = files.slice(-1);
const scanLast = last?.endsWith('log-secrets.test.ts');
const first = scanLast ? files.slice(0, -1) : files;
const env = { ...process.env, AIM_TEST_LOG_FILE: logFile, NODE_ENV: 'test', ...(long && { AIM_TEST_LONG: '1' }) };
const totals = new Map();
const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;

function run(list) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=tap', ...list], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = SUMMARY.exec(line);
      if (m) totals.set(m[1], (totals.get(m[1]) ?? 0) + Number(m[2]));
      else process.stdout.write(`${line}\n`);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

let status = first.length > 0 ? await run(first) : 0;
if (scanLast) status = (await run([last])) || status;
for (const key of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) console.log(`# ${key} ${totals.get(key) ?? 0}`);
console.log(`# duration_ms ${Math.round(totals.get('duration_ms') ?? 0)}`);
process.exit(status);
