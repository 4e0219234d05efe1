/** The benchmark's command line. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Objects in the bucket for every measurement but the scale one. */
  n: number;
  /** The scale measurement grows the bucket to scale x n objects (1 turns it off). */
  scale: number;
  /** Reads in flight: the source's `concurrency` and the bare client's. */
  concurrency: number;
  /** Jobs a worker runs at once (`anpr-audit worker --concurrency`, runScan's concurrency). */
  workerConcurrency: number;
  /** Repetitions of each short measurement (the median is reported). */
  runs: number;
  /** Repetitions of the worker-process scans of (d) and (f), which take a minute or two each. */
  processRuns: number;
  /** Distinct rendered base images. */
  pool: number;
  /** Uploads in flight while filling the bucket. */
  uploadConcurrency: number;
  /** Pin the S3 process to a CPU of its own (bench/cpu-affinity.ts). */
  pin: boolean;
  /** Write V8 CPU profiles of the worker processes into this directory. */
  cpuProfDir: string | null;
  /** Where the markdown table goes. */
  out: string;
}

const USAGE = `Usage: npm run bench -- [--n N] [--scale S] [--concurrency C] [--worker-concurrency J]
                        [--runs R] [--process-runs R] [--pool P] [--upload-concurrency U] [--pin] [--cpu-prof DIR]
                        [--out FILE]`;

/**
 * The integer a `--name` option gives, at least `min` (default 1), or `fallback` when it is absent.
 * @throws Error naming the option, with `usage`, on anything else.
 */
export function integerOption(
  name: string,
  value: string | undefined,
  fallback: number,
  { min = 1, usage = USAGE }: { min?: number; usage?: string } = {},
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name}: must be an integer of at least ${min} (got "${value}")\n${usage}`);
  return n;
}

const positiveInt = (name: string, value: string | undefined, fallback: number): number =>
  integerOption(name, value, fallback);

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: 'string' },
      scale: { type: 'string' },
      concurrency: { type: 'string' },
      'worker-concurrency': { type: 'string' },
      runs: { type: 'string' },
      'process-runs': { type: 'string' },
      pool: { type: 'string' },
      'upload-concurrency': { type: 'string' },
      'cpu-prof': { type: 'string' },
      pin: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  return {
    n: positiveInt('n', values.n, 20_000),
    scale: positiveInt('scale', values.scale, 5),
    concurrency: positiveInt('concurrency', values.concurrency, 32),
    workerConcurrency: positiveInt('worker-concurrency', values['worker-concurrency'], 4),
    runs: positiveInt('runs', values.runs, 3),
    processRuns: positiveInt('process-runs', values['process-runs'], 3),
    pool: positiveInt('pool', values.pool, 64),
    uploadConcurrency: positiveInt('upload-concurrency', values['upload-concurrency'], 16),
    pin: values.pin,
    cpuProfDir: profileDirectory(values['cpu-prof']),
    out: values.out ?? 'bench/results.md',
  };
}

/** The directory for CPU profiles, created when missing (the S3 process writes into it, and fails without it). */
function profileDirectory(path: string | undefined): string | null {
  if (path === undefined) return null;
  const directory = resolve(path);
  mkdirSync(directory, { recursive: true });
  return directory;
}
