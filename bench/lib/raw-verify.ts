import { Worker } from 'node:worker_threads';
import type { LoadResult } from './load.js';

// Runs in a worker thread of its own: one core doing nothing but crypto.verify on a parsed KeyObject,
// with a message shaped like a verify-action message.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { generateKeyPairSync, sign, verify } = require('node:crypto');
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const message = Buffer.from('3f1c2a9e-0000-4000-8000-000000000000:files:read:/data/report.csv:1700000000:bm9uY2Utbm9uY2Utbm9uY2U=');
const signature = sign(null, message, privateKey);
const until = performance.now() + workerData.ms;
let calls = 0;
const started = performance.now();
while (performance.now() < until) {
  for (let i = 0; i < 100; i++) if (!verify(null, message, publicKey, signature)) throw new Error('verify failed');
  calls += 100;
}
parentPort.postMessage(calls / ((performance.now() - started) / 1000));
`;

/** The baseline as a load result, so it can alternate with the load it is compared to. */
export async function rawVerifySlice(seconds: number): Promise<LoadResult> {
  const rate = await rawVerifyPerSecond(seconds * 1000);
  return { seconds, requests: Math.round(rate * seconds), rps: rate, p50: 0, p99: 0, errors: 0, statuses: {} };
}

/** Ed25519 `crypto.verify` calls per second on one core (one worker thread). */
export function rawVerifyPerSecond(ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { ms } });
    worker.once('message', (rate: number) => {
      resolve(rate);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
