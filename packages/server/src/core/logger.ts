import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Where a secret could sit in a log line, it is censored. Request bodies and headers are not logged at all;
 * these paths are the second line of defence for anything that logs an object carrying them.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.refresh_token',
  '*.access_token',
  '*.client_assertion',
  '*.token',
  '*.key',
  '*.private_key',
  '*.secret',
  '*.totp_code',
  '*.code',
  '*.recovery_codes',
  '*.otpauth_url',
  '*.csrf_token',
  '*.secret_sealed',
  'password',
  'token',
  'secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'aim' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
