/**
 * The only code that imports `pino`. Structured JSON logs on stderr; secrets and anything that may
 * hold a plate (object keys, tokens, credentials) are redacted by path, and callers log ids and
 * counts, never object keys.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths redacted wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'secretKey',
  '*.secretKey',
  'accessKey',
  '*.accessKey',
  'credentials',
  '*.credentials',
  'key',
  '*.key',
  'plate',
  '*.plate',
];

/** Creates the process logger. `level` silent turns logging off (tests, `--json`). */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'anpr-auditor' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}
