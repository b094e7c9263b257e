import type { Logger } from 'pino';
import { DAY } from '../core/clock.js';
import type { AuditService } from './service.js';

export interface RetentionJob {
  /** Stops the timer and waits for a run in progress, so the database can close under it. */
  stop(): Promise<void>;
}

/**
 * Runs audit pruning once now and then every `intervalMs` (a day). The timer is unref'd: it never keeps the
 * process alive. Runs never overlap; a failed run is logged and retried at the next tick.
 */
export function scheduleRetention(audit: AuditService, logger: Logger, intervalMs = DAY): RetentionJob {
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = audit
      .prune()
      .then(
        (report) => {
          if (report.deleted > 0) logger.info(report, 'pruned audit entries past their retention');
        },
        (error: unknown) => logger.error({ err: error }, 'audit retention failed'),
      )
      .finally(() => {
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
