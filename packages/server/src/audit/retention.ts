import type { Logger } from 'pino';
import { DAY } from '../core/clock.js';

export interface RetentionJob {
  /** Stops the timer and waits for a run in progress, so the database can close under it. */
  stop(): Promise<void>;
}

/** One kind of data the maintenance job prunes (the audit log, API key usage, …). */
export interface Pruner {
  /** Names the data in log lines. */
  name: string;
  /** Deletes what is past its retention; answers at least how many rows went. */
  prune(): Promise<{ deleted: number }>;
}

/**
 * The maintenance job: runs every pruner once now and then every `intervalMs` (a day). The timer is unref'd: it
 * never keeps the process alive. Runs never overlap; a failed pruner is logged, does not stop the others, and is
 * retried at the next tick.
 */
export function scheduleRetention(pruners: readonly Pruner[], logger: Logger, intervalMs = DAY): RetentionJob {
  let running: Promise<void> | undefined;
  const pruneOne = (pruner: Pruner) =>
    pruner.prune().then(
      (report) => {
        if (report.deleted > 0) logger.info(report, `${pruner.name} retention: pruned`);
      },
      (error: unknown) => logger.error({ err: error }, `${pruner.name} retention failed`),
    );
  const run = () => {
    if (running) return;
    running = (async () => {
      for (const pruner of pruners) await pruneOne(pruner);
    })().finally(() => {
      running = undefined;
    });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
