import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/**
 * NIST SP 800-63B §3.1.1.2: a new password is checked against commonly used and expected ones. zxcvbn (Dropbox's
 * estimator) knows the common-password lists, keyboard walks, repeats, sequences, dates and l33t spellings, and the
 * person's own details passed as `userInputs`. Below score 3 (fewer than 10^8 guesses) a password falls to an
 * online or throttled attack in reach of anyone with a list; the length rule alone lets `password1234` through.
 */
const MIN_SCORE = 3;

let estimator: ZxcvbnFactory | undefined;

/** Built on first use: the dictionaries take a few tens of milliseconds to rank, paid by the first password set. */
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  return estimator;
}

/** Whether `password` is common or follows a pattern an attacker tries early; `userInputs` are the person's details. */
export function tooEasyToGuess(password: string, userInputs: readonly string[] = []): boolean {
  return zxcvbn().check(password, [...userInputs]).score < MIN_SCORE;
}

/** The person's details a password should not be built from: the email, its name part and the words in them. */
export function personalWords(email: string): string[] {
  const name = email.slice(0, Math.max(0, email.lastIndexOf('@')));
  const words = email.split(/[@.+_-]+/).filter((word) => word.length >= 3);
  return [...new Set([email, ...(name ? [name] : []), ...words])];
}
