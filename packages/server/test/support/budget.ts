/**
 * How hard the proving-ground suites push: `npm test` runs the short budget, `npm run test:long` (AIM_TEST_LONG=1)
 * the long one, with more fuzzing rounds, more crash cycles and the 10-minute soak.
 */
export const LONG = process.env.AIM_TEST_LONG === '1';

export const BUDGET = LONG
  ? { fuzzRounds: 12, fuzzRunsPerRoute: 16, crashCycles: 10, soakMinutes: 10 }
  : { fuzzRounds: 3, fuzzRunsPerRoute: 6, crashCycles: 3, soakMinutes: 0 };
