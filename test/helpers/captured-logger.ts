/** A pino logger whose records are kept in an array, for tests that wait for a log line of a server run in process. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface CapturedLog {
  msg?: string;
  [field: string]: unknown;
}

export function capturedLogger(level = 'info'): { logger: Logger; logs: CapturedLog[] } {
  const logs: CapturedLog[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as CapturedLog);
      done();
    },
  });
  return { logger: pino({ level }, sink), logs };
}
