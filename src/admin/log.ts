/**
 * The process logger: pino, one JSON line per event on stdout, e.g.
 *   {"level":"info","time":"2025-01-01T12:00:00.000Z","service":"vmpilot","pid":42,"callId":"…","msg":"call received"}
 * Levels are written as names, times as ISO 8601, so the lines read well in `journalctl` and `docker logs`
 * and feed any JSON log shipper. Call code adds `callId` through `logger.child({ callId })`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/schema.js';

/**
 * @param level the least severe level written (config log.level)
 * @param destination where lines go; default stdout, written asynchronously (a slow reader of stdout must
 *   not stall calls) and flushed when the process exits
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vmpilot', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
