import { randomBytes, randomUUID } from 'node:crypto';

/** Randomness as a parameter, like the clock. */
export interface Random {
  bytes(length: number): Buffer;
  uuid(): string;
}

export const systemRandom: Random = {
  bytes: (length) => randomBytes(length),
  uuid: () => randomUUID(),
};
