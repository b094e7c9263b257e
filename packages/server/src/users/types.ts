import type { Role } from '@aim/protocol';
import type { OrgId, UserId } from '../core/ids.js';

export interface Organization {
  id: OrgId;
  name: string;
  createdAt: number;
}

export interface User {
  id: UserId;
  organizationId: OrgId;
  email: string;
  role: Role;
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
  disabledAt: number | null;
}

/** A user with the password hash: only the users domain sees this shape. */
export interface UserWithSecret extends User {
  passwordHash: string;
}

/** Emails are compared case-insensitively and stored trimmed and lowercased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
