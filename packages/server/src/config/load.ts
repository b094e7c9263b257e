import { SETTINGS, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates every setting once. The first invalid one stops start-up with one line naming it.
 * Empty strings count as unset.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(SETTINGS)) {
    const raw = env[s.env] === '' ? undefined : env[s.env];
    const parsed = s.schema.safeParse(raw ?? s.default);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      // The value itself is not echoed: it may be a secret.
      throw new ConfigError(`${s.env}: ${reason}`);
    }
    out[name] = parsed.data;
  }
  // Unset, the public URL follows the port: `AIM_PORT=9090 npm start` issues tokens (and checks browser origins)
  // for where it listens. Port 0 is only known once bound, so it keeps the default.
  if ((env.AIM_PUBLIC_URL ?? '') === '' && out.port !== 0) out.publicUrl = `http://localhost:${String(out.port)}`;
  const config = out as Config;
  if ((config.adminEmail === undefined) !== (config.adminPassword === undefined)) {
    throw new ConfigError('AIM_ADMIN_PASSWORD: AIM_ADMIN_EMAIL and AIM_ADMIN_PASSWORD must be set together');
  }
  // The previous keys only open; without AIM_MASTER_KEY there would be no named key to seal with.
  if (config.masterKeyPrevious !== undefined && config.masterKey === undefined) {
    throw new ConfigError('AIM_MASTER_KEY_PREVIOUS: requires AIM_MASTER_KEY (the new key) to be set too');
  }
  // An unsigned webhook would let anyone who can reach the receiver forge alerts.
  if (config.alertWebhookUrl !== undefined && config.alertWebhookSecret === undefined) {
    throw new ConfigError('AIM_ALERT_WEBHOOK_SECRET: required when AIM_ALERT_WEBHOOK_URL is set');
  }
  return config;
}
