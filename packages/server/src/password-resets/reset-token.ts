import { opaqueToken } from '../core/opaque-token.js';

/** Password reset tokens: `pr_<reset id>.<secret>`. */
const resetToken = opaqueToken('pr_');

export const formatResetToken = resetToken.format;
export const parseResetToken = resetToken.parse;

/**
 * The web UI's page for a token. The token travels in the fragment, which browsers never send to a server nor put
 * in a Referer, so it stays out of access logs and proxies.
 */
export function resetUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/reset-password#token=${token}`;
}
