/**
 * `npm run bench:copies`: the copy check against a production of many images, measured by the
 * check's own cost (time in the store and in the comparisons, and memory), not by S3: every
 * production image already has its perceptual hash, as it does after its first comparison, so no
 * object is read (the limits below throw if one were). Prints the time of the check against a bare
 * pass over the production states measured in the same run (what any check that holds production
 * in view must do at least), and the heap the check grew by.
 *
 * Production: P images, one every 48 h / P, a plate hash on 90 %, of which T (0.1 % by default)
 * without an EXIF time, as a vendor that strips EXIF would store them.
 * Suspicious: S copies of random production images (same capture time and plate, 3 bits of hash
 * flipped), of which U lost their EXIF (stripped), and O unrelated images with an EXIF time (S/10 by
 * default).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../config/load.js';
import { findProductionCopies } from '../core/scan/copy-check.js';
import { ScanDeps } from '../core/scan/scan-deps.js';
import { openDb, openStore, type ObjectState, type Store } from '../core/store/index.js';
import { seededRandom } from '../fixtures/random.js';
import { integerOption } from './options.js';
import { spread } from './report.js';

const USAGE =
  'Usage: npm run bench:copies -- [--production P] [--untimed-production T] [--copies S] [--untimed U] [--unrelated O] [--runs R] [--postgres URL]';

const { values } = parseArgs({
  options: {
    production: { type: 'string' },
    'untimed-production': { type: 'string' },
    copies: { type: 'string' },
    untimed: { type: 'string' },
    unrelated: { type: 'string' },
    runs: { type: 'string' },
    postgres: { type: 'string' },
  },
  strict: true,
});
const P = integerOption('production', values.production, 200_000, { usage: USAGE });
const S = integerOption('copies', values.copies, 2_000, { usage: USAGE });
const U = Math.min(S, integerOption('untimed', values.untimed, 20, { min: 0, usage: USAGE }));
const T = Math.min(
  P,
  integerOption('untimed-production', values['untimed-production'], Math.floor(P / 1000), {
    min: 0,
    usage: USAGE,
  }),
);
const O = integerOption('unrelated', values.unrelated, Math.floor(S / 10), { min: 0, usage: USAGE });
/** Production image i has no EXIF time when i falls on this stride (T of them, spread evenly). */
const untimedProduction = (i: number): boolean =>
  T > 0 && Math.floor(((i + 1) * T) / P) > Math.floor((i * T) / P);
const RUNS = integerOption('runs', values.runs, 3, { usage: USAGE });

const random = seededRandom(20261125);
const hex = (digits: number): string =>
  Array.from({ length: digits }, () => Math.floor(random() * 16).toString(16)).join('');
const NOW = Date.parse('2026-11-25T12:00:00Z');
const SPAN_MS = 48 * 3_600_000;

function state(bucket: string, key: string, over: Partial<ObjectState>): ObjectState {
  return {
    source: 'edge',
    bucket,
    key,
    etag: hex(32),
    size: 350_000,
    lastModified: new Date(NOW),
    isImage: true,
    readError: null,
    captureTime: null,
    captureTimeOrigin: null,
    exifCaptureTime: null,
    cameraMake: 'Acme',
    cameraModel: 'ANPR-9',
    plateHash: null,
    signals: { metadata: null, exif: null },
    perceptualHash: hex(16),
    readSettings: 'bench',
    copyOf: null,
    ...over,
  };
}

function flipBits(hash: string, bits: number): string {
  let value = BigInt(`0x${hash}`);
  for (let i = 0; i < bits; i++) value ^= 1n << BigInt(Math.floor(random() * 64));
  return value.toString(16).padStart(16, '0');
}

async function load(store: Store): Promise<void> {
  const production: ObjectState[] = [];
  for (let i = 0; i < P; i++) {
    const untimed = untimedProduction(i);
    const captured = new Date(NOW - SPAN_MS + Math.floor((i * SPAN_MS) / P));
    production.push(
      state('edge-prod', `cam-${i % 40}/${String(i).padStart(8, '0')}.jpg`, {
        captureTime: untimed ? new Date(NOW) : captured,
        captureTimeOrigin: untimed ? 'last-modified' : 'exif-offset',
        plateHash: i % 10 === 0 ? null : hex(64),
      }),
    );
    if (production.length === 5000) await store.putObjectStates(production.splice(0));
  }
  await store.putObjectStates(production.splice(0));
  const suspicious: ObjectState[] = [];
  for (let j = 0; j < S; j++) {
    const index = Math.floor(random() * P);
    const [original] = await store
      .getObjectStates('edge', 'edge-prod', [`cam-${index % 40}/${String(index).padStart(8, '0')}.jpg`])
      .then((m) => [...m.values()]);
    const stripped = j < U;
    // A copy with EXIF of an original without: taken from the camera, before the vendor stripped it.
    const cameraTime =
      original!.captureTimeOrigin === 'last-modified'
        ? new Date(NOW - Math.floor(random() * SPAN_MS))
        : original!.captureTime;
    suspicious.push(
      state('edge-test', `copy-${String(j).padStart(6, '0')}.jpg`, {
        captureTime: stripped ? new Date(NOW) : cameraTime,
        captureTimeOrigin: stripped ? 'last-modified' : 'exif-offset',
        plateHash: stripped ? null : original!.plateHash,
        perceptualHash: flipBits(original!.perceptualHash!, 3),
      }),
    );
  }
  for (let j = 0; j < O; j++) {
    suspicious.push(
      state('edge-test', `other-${String(j).padStart(6, '0')}.jpg`, {
        captureTime: new Date(NOW - Math.floor(random() * SPAN_MS)),
        captureTimeOrigin: 'exif-offset',
        plateHash: hex(64),
      }),
    );
  }
  await store.putObjectStates(suspicious);
}

/** Runs `task`, sampling the heap every 20 ms; returns its time and the most the heap grew by. */
async function measure<T>(task: () => Promise<T>): Promise<{ ms: number; heapMiB: number; value: T }> {
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const started = performance.now();
  try {
    const value = await task();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { ms: performance.now() - started, heapMiB: (peak - base) / 2 ** 20, value };
  } finally {
    clearInterval(sampler);
  }
}

const median = (xs: number[]): number => spread(xs).median;

async function main(): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'anpr-bench-copies-'));
  const schema = `bench_copies_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const store = await openStore(
    values.postgres ? { databaseUrl: values.postgres, schema } : { dataDir: join(directory, 'pglite') },
  );
  try {
    const config = parseConfig(
      `sources:\n  - { id: edge, role: edge, endpoint: "http://127.0.0.1:9", accessKeyEnv: K, secretKeyEnv: K, buckets: [edge-prod] }\n`,
      'bench.yaml',
      { K: 'unused' },
    );
    const deps = new ScanDeps(config, store, {
      rate: () => {
        throw new Error('the measurement reads no object');
      },
      concurrency: () => {
        throw new Error('the measurement reads no object');
      },
    });
    const loadStarted = performance.now();
    await load(store);
    const loadS = (performance.now() - loadStarted) / 1000;

    const pass = async (): Promise<number> => {
      let after: string | null = null;
      let count = 0;
      for (;;) {
        const page = await store.listObjectStates('edge', 'edge-prod', after, 1000);
        count += page.length;
        if (page.length < 1000) return count;
        after = page[page.length - 1]!.key;
      }
    };
    const check = () =>
      findProductionCopies(deps, [{ source: 'edge', bucket: 'edge-test' }], async () => undefined);

    const baseline: number[] = [];
    const first: Array<{ ms: number; heapMiB: number; found: number }> = [];
    const again: Array<{ ms: number; heapMiB: number; found: number }> = [];
    for (let run = 0; run < RUNS; run++) {
      baseline.push((await measure(pass)).ms);
      await forgetMatches(store);
      const one = await measure(check);
      first.push({ ms: one.ms, heapMiB: one.heapMiB, found: one.value.found });
      const two = await measure(check);
      again.push({ ms: two.ms, heapMiB: two.heapMiB, found: two.value.found });
      if (one.value.errors.length > 0) throw new Error(one.value.errors.join('\n'));
    }
    const base = median(baseline);
    const row = (name: string, runs: Array<{ ms: number; heapMiB: number; found: number }>) =>
      `| ${name} | ${(median(runs.map((r) => r.ms)) / 1000).toFixed(2)} s | ${(median(runs.map((r) => r.ms)) / base).toFixed(2)} x | ${median(runs.map((r) => r.heapMiB)).toFixed(1)} MiB | ${runs[0]!.found} |`;
    process.stdout.write(
      [
        `copy check: ${P} production images (${T} without an EXIF time), ${S + O} suspicious (${S - U} copies with EXIF, ${U} stripped, ${O} unrelated); ${values.postgres ? 'PostgreSQL' : 'PGlite'}; loaded in ${loadS.toFixed(0)} s; median of ${RUNS} runs`,
        '',
        '| measured | time | against the bare pass | heap grown by | copies found |',
        '|---|---|---|---|---|',
        `| bare pass over the production states (baseline) | ${(base / 1000).toFixed(2)} s | 1.00 x | - | - |`,
        row('copy check, first (look-ups, comparisons)', first),
        row('copy check again (matches kept)', again),
        '',
      ].join('\n'),
    );
  } finally {
    await store.close();
    if (values.postgres) {
      const db = await openDb({ databaseUrl: values.postgres });
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => db.close());
    }
    await rm(directory, { recursive: true, force: true });
  }
}

/** Clears the copies found by an earlier run, so every run's first check looks them up again. */
async function forgetMatches(store: Store): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const page = await store.listObjectStates('edge', 'edge-test', after, 1000);
    for (const s of page) if (s.copyOf) await store.setCopyOf(s, null);
    if (page.length < 1000) return;
    after = page[page.length - 1]!.key;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
