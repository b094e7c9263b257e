import { describe, it } from 'node:test';
import { fuzzStore } from './fuzz-harness.js';

describe('schema-driven fuzzing of every route on SQLite', () => {
  it('answers every input with a documented success or a catalogued error, stays up, and keeps memory bounded', async (t) => {
    await fuzzStore(t, 'sqlite');
  });
});
