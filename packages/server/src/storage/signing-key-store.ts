import type { SigningKeyRecord, SigningKeyStore } from '../tokens/store.js';
import type { Kysely } from 'kysely';
import { KyselyStore } from './kysely-store.js';
import type { Tables } from './tables.js';

export class KyselySigningKeyStore extends KyselyStore implements SigningKeyStore {
  async listPublished(now: number): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute();
    return rows.map((r) => ({
      kid: r.kid,
      publicJwk: r.public_jwk,
      privateJwkSealed: r.private_jwk_sealed,
      createdAt: r.created_at,
      retiredAt: r.retired_at,
      expiresAt: r.expires_at,
    }));
  }

  async insertAndRetireOthers(key: SigningKeyRecord, retiredAt: number, expiresAt: number): Promise<void> {
    await this.atomically(async (trx) => {
      await this.lock(trx, 'aim.signing-keys');
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: retiredAt, expires_at: expiresAt })
        .where('retired_at', 'is', null)
        .execute();
      await insertKey(trx, key);
    });
  }

  async insertIfNoSigner(key: SigningKeyRecord): Promise<boolean> {
    return this.atomically(async (trx) => {
      await this.lock(trx, 'aim.signing-keys');
      const signer = await trx.selectFrom('signing_keys').select('kid').where('retired_at', 'is', null).executeTakeFirst();
      if (signer) return false;
      await insertKey(trx, key);
      return true;
    });
  }
}

async function insertKey(db: Kysely<Tables>, key: SigningKeyRecord): Promise<void> {
  await db
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      public_jwk: key.publicJwk,
      private_jwk_sealed: key.privateJwkSealed,
      created_at: key.createdAt,
      retired_at: null,
      expires_at: null,
    })
    .execute();
}
