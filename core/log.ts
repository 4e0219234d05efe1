/**
 * The only code that imports `pino`. Structured JSON logs on stderr; secrets and anything that may
 * hold a plate (object keys, tokens, credentials) are redacted by path, and callers log ids and
 * counts, never object keys. Error text can still quote a key (`cannot read 2026/11/GX-123-B.jpg`),
 * so every string field's plate-like parts are masked as well.
 */
import { pino, type Logger } from 'pino';
import { maskPlates } from './plate-mask.js';

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

/** A log field with plate-like text masked: strings, and the message and stack of errors. */
function maskField(value: unknown): unknown {
  if (typeof value === 'string') return maskPlates(value);
  if (value instanceof Error) {
    // A copy of the same class, so pino's error serializer still names its type and copies its fields.
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Error, value);
    for (const field of ['message', 'stack'] as const) {
      const text = value[field];
      if (typeof text === 'string') {
        Object.defineProperty(copy, field, { value: maskPlates(text), writable: true, configurable: true });
      }
    }
    return copy;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (typeof record.message === 'string' || typeof record.stack === 'string') {
      return {
        ...record,
        ...(typeof record.message === 'string' ? { message: maskPlates(record.message) } : {}),
        ...(typeof record.stack === 'string' ? { stack: maskPlates(record.stack) } : {}),
      };
    }
  }
  return value;
}

/** Creates the process logger. `level` silent turns logging off (tests, `--json`). */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'anpr-auditor' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: {
        log: (object) => Object.fromEntries(Object.entries(object).map(([k, v]) => [k, maskField(v)])),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}
