import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.js';
import * as agents from './0002_agents.js';
import * as apiKeys from './0003_api_keys.js';
import * as mfa from './0004_mfa.js';
import * as alerts from './0005_alerts.js';
import * as revocations from './0006_revocations.js';
import * as userDeletion from './0007_user_deletion.js';
import * as apiKeyUsageDay from './0008_api_key_usage_day.js';
import * as refreshRetry from './0009_refresh_retry.js';
import * as auditSubject from './0010_audit_subject.js';
import * as auditHeadFunction from './0011_audit_head_function.js';
import * as passwordResets from './0012_password_resets.js';
import * as apiKeyMintedBy from './0013_api_key_minted_by.js';
import * as sessionAuthTime from './0014_session_auth_time.js';

/** Every migration, in order. Names are permanent once released. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_agents': agents,
  '0003_api_keys': apiKeys,
  '0004_mfa': mfa,
  '0005_alerts': alerts,
  '0006_revocations': revocations,
  '0007_user_deletion': userDeletion,
  '0008_api_key_usage_day': apiKeyUsageDay,
  '0009_refresh_retry': refreshRetry,
  '0010_audit_subject': auditSubject,
  '0011_audit_head_function': auditHeadFunction,
  '0012_password_resets': passwordResets,
  '0013_api_key_minted_by': apiKeyMintedBy,
  '0014_session_auth_time': sessionAuthTime,
};
