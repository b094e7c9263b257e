import type { Kysely } from 'kysely';
import type { Tables } from './tables.js';

type Work<T> = (trx: Kysely<Tables>) => Promise<T>;

interface Job {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit for SQLite, whose single writer runs transactions one after another anyway: the transactions that
 * arrive while one is running are run next, together, in one SQLite transaction with a savepoint each, and
 * committed once. Each caller still learns its outcome only after the commit (a 200 still means committed); one
 * that throws is rolled back to its savepoint alone, exactly as if it had been a transaction of its own; if the
 * commit fails, every caller of the batch gets the error. What is saved is the commit itself (the WAL write and
 * its bookkeeping), which was the largest single cost of a write request.
 */
export class GroupCommit {
  private queue: Job[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly maxBatch = 64,
  ) {}

  run<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        // Start after this turn's I/O callbacks: the requests that arrived together get to join the first batch.
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Resolves once every transaction handed in so far has committed or failed (before the database closes). */
  async settled(): Promise<void> {
    while (this.draining) await new Promise((resolve) => setImmediate(resolve));
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        if (batch.length === 1) await this.runAlone(batch[0]!);
        else await this.runTogether(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runAlone(job: Job): Promise<void> {
    try {
      job.resolve(await this.db.transaction().execute(job.work));
    } catch (error) {
      job.reject(error);
    }
  }

  private async runTogether(batch: Job[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      const trx = await this.db.startTransaction().execute();
      try {
        for (const job of batch) {
          const inJob = await trx.savepoint('job').execute();
          let outcome: Outcome;
          try {
            outcome = { ok: true, value: await job.work(inJob) };
          } catch (error) {
            outcome = { ok: false, error };
            await inJob.rollbackToSavepoint('job').execute();
          }
          // Recorded once its savepoint is settled: a failure here fails the whole batch, never shifts outcomes.
          await inJob.releaseSavepoint('job').execute();
          outcomes.push(outcome);
        }
        await trx.commit().execute();
      } catch (error) {
        await trx.rollback().execute().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    });
  }
}
