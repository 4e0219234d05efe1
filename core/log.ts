/**
 * The only code that imports `pino`. Structured JSON logs on stderr; secrets and anything that may
 * hold a plate (object keys, tokens, credentials) are redacted by path, and callers log ids and
 * counts, never object keys. Error text can still quote a key (`cannot read 2026/11/GX-123-B.jpg`),
 * so the error fields (`err`, `error`, `reason`: strings, or errors with their causes and fields) and
 * the message have their plate-like parts masked as well. Other fields are ids and counts the caller
 * chose, and stay as they are (masking them would garble bucket names and job ids).
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

/** Every string in `value` (an error serialized by pino, with its causes) with plates masked. */
function maskStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPlates(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, depth + 1)]));
}

/**
 * The serializer of error fields: pino's own for errors (type, message and stack with their causes,
 * and their other fields, such as pg's `detail`), then every string masked.
 */
function maskedError(value: unknown): unknown {
  return maskStrings(value instanceof Error ? pino.stdSerializers.err(value) : value);
}

/** Log fields that hold error text. */
const ERROR_FIELDS = ['err', 'error', 'reason'] as const;

/** Creates the process logger. `level` silent turns logging off (tests, `--json`). */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'anpr-auditor' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: Object.fromEntries(ERROR_FIELDS.map((field) => [field, maskedError])),
      hooks: {
        // The message, and the one pino takes from an error logged without one (`log.error(err)`).
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          if (rest.length === 0 && first instanceof Error) {
            return method.apply(this, [first, maskPlates(first.message)] as Parameters<typeof method>);
          }
          const masked = args.map((arg) => (typeof arg === 'string' ? maskPlates(arg) : arg));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}
