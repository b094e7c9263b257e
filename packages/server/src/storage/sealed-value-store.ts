import type { SealedValue, SealedValueStore } from '../master-key/index.js';
import { KyselyStore } from './kysely-store.js';

const CHECK_KEY = 'master_key_check';

export class KyselySealedValueStore extends KyselyStore implements SealedValueStore {
  async listSealed(): Promise<SealedValue[]> {
    const [keys, totp, check] = await Promise.all([
      this.db.selectFrom('signing_keys').select(['kid', 'private_jwk_sealed']).orderBy('kid').execute(),
      this.db.selectFrom('mfa_totp').select(['user_id', 'secret_sealed']).orderBy('user_id').execute(),
      this.db.selectFrom('meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst(),
    ]);
    return [
      ...keys.map((r): SealedValue => ({ kind: 'signing_key', id: r.kid, sealed: r.private_jwk_sealed })),
      ...totp.map((r): SealedValue => ({ kind: 'totp_secret', id: r.user_id, sealed: r.secret_sealed })),
      ...(check ? [{ kind: 'master_key_check' as const, id: CHECK_KEY, sealed: check.value }] : []),
    ];
  }

  async replaceSealed(value: SealedValue, resealed: string): Promise<boolean> {
    const result = await this.update(value, resealed);
    return result.numUpdatedRows > 0n;
  }

  private update(value: SealedValue, resealed: string) {
    switch (value.kind) {
      case 'signing_key':
        return this.db
          .updateTable('signing_keys')
          .set({ private_jwk_sealed: resealed })
          .where('kid', '=', value.id)
          .where('private_jwk_sealed', '=', value.sealed)
          .executeTakeFirst();
      case 'totp_secret':
        return this.db
          .updateTable('mfa_totp')
          .set({ secret_sealed: resealed })
          .where('user_id', '=', value.id)
          .where('secret_sealed', '=', value.sealed)
          .executeTakeFirst();
      case 'master_key_check':
        return this.db.updateTable('meta').set({ value: resealed }).where('key', '=', CHECK_KEY).where('value', '=', value.sealed).executeTakeFirst();
    }
  }
}
