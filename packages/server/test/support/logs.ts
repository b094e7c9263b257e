import { appendFileSync } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * Captures a test server's log lines in memory, and appends them to AIM_TEST_LOG_FILE when set, so one test at
 * the end of the run can scan every line the whole suite produced for secrets.
 */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  private readonly file = process.env.AIM_TEST_LOG_FILE;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const text = chunk.toString('utf8');
    this.lines.push(...text.split('\n').filter(Boolean));
    if (this.file) appendFileSync(this.file, text);
    done();
  }

  text(): string {
    return this.lines.join('\n');
  }
}
