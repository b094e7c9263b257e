import type { UserId } from '../core/ids.js';

/** A user's TOTP factor as stored: the secret stays sealed until the service opens it to check a code. */
export interface TotpFactor {
  userId: UserId;
  secretSealed: string;
  createdAt: number;
  /** `null` while setup is pending; the factor protects logins only once enabled. */
  enabledAt: number | null;
  /** The newest RFC 6238 time step accepted, so no code is accepted twice. */
  lastUsedStep: number | null;
}

export interface NewRecoveryCode {
  id: string;
  codeHash: string;
}

/** What `setup` hands out once: the base32 secret and the `otpauth://` URL an authenticator app scans. */
export interface TotpSetup {
  secret: string;
  otpauthUrl: string;
}

/** How a second-factor code was accepted. */
export type FactorMethod = 'totp' | 'recovery_code';
