/**
 * `anpr-audit scan`: runs one scan to completion through the queue with an in-process worker,
 * shows progress on stderr, prints the summary (or JSON) on stdout, and maps the outcome to the
 * exit code: 0 complete without findings, 1 complete with findings, 3 incomplete.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Finding, Scan } from '../../core/model.js';
import type { Runtime } from '../../core/runtime.js';
import { startScan } from '../../core/scan/start-scan.js';
import { scanJobOptions } from '../../core/queue/connection.js';
import { startScanWorkers, type ScanWorkers } from '../../workers/scan-workers.js';
import { renderFindings, renderSummary } from './report-format.js';
import { createLogger } from '../../core/log.js';
import { gracefulShutdown } from '../../server/shutdown.js';

/** Exit codes of the CLI (README, CLI). */
export const EXIT = { clean: 0, findings: 1, usage: 2, incomplete: 3, unavailable: 4 } as const;

export interface ScanOutcome {
  scan: Scan;
  findings: Finding[];
  exitCode: number;
}

/** Statuses an officer set that mean "not a problem now": such findings do not fail the exit code. */
const SETTLED = new Set(['false-positive', 'accepted-risk']);

/** Starts a scan and waits for it, reporting progress to `onProgress`. */
export async function runScan(
  runtime: Runtime,
  opts: {
    sources: string[];
    now?: Date;
    onProgress?: (scan: Scan) => void;
    pollMs?: number;
    concurrency?: number;
    /**
     * A stop request: cancels the scan while it runs (its jobs stop after the page they are on), and
     * stops waiting for other scans' jobs after it ended (see the end of this function).
     */
    signal?: AbortSignal;
  },
): Promise<ScanOutcome> {
  const workers = await startScanWorkers(runtime, { concurrency: opts.concurrency ?? 4 });
  try {
    const scanId = await startScan(runtime.store, runtime.flows, {
      sources: opts.sources,
      trigger: 'cli',
      now: opts.now,
      jobOptions: scanJobOptions(runtime.queueSettings),
    });
    let scan = (await runtime.store.getScan(scanId))!;
    while (scan.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 200));
      // Cancelled as `POST /scans/:id/cancel` does; a scan that ended meanwhile keeps its status.
      if (opts.signal?.aborted) await runtime.store.cancelScan(scanId, new Date());
      scan = (await runtime.store.getScan(scanId))!;
      opts.onProgress?.(scan);
    }
    const findings = await runtime.store.findingsOfScan(scanId);
    const active = findings.filter((f) => !SETTLED.has(f.status) && f.suppressedBy === null);
    const exitCode =
      scan.status !== 'completed' ? EXIT.incomplete : active.length > 0 ? EXIT.findings : EXIT.clean;
    return { scan, findings, exitCode };
  } finally {
    // The in-process worker shares the queue, so it may be running another scan's job (a bucket can
    // take hours). That job is waited for, as a giving-up would cost it one of its stalls; a stop
    // request gives it the shutdown time, then gives it up for another worker to resume from its
    // checkpoint, as when `anpr-audit worker` stops.
    await closeUnlessStopped(workers, opts.signal, runtime.config.queue.shutdownTimeoutSeconds * 1000);
  }
}

/**
 * Closes the workers; once `signal` aborts, they get `ms` more (the shutdown of `anpr-audit worker`),
 * then their jobs are given up.
 */
async function closeUnlessStopped(
  workers: ScanWorkers,
  signal: AbortSignal | undefined,
  ms: number,
): Promise<void> {
  const closed = workers.close();
  if (!signal) return closed;
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  if (await Promise.race([closed.then(() => true), stopped.then(() => false)])) return;
  const step = { name: 'scan workers', close: () => closed, force: async () => workers.abandon() };
  await gracefulShutdown([step], ms, SILENT);
}

/** runScan prints nothing of its own: the CLI reports the outcome. */
const SILENT = createLogger({ level: 'silent' });

/** A progress reporter on stderr: a bar on a TTY, a plain line per change otherwise. */
export function progressReporter(stream: NodeJS.WriteStream): { update(scan: Scan): void; stop(): void } {
  const totals = (scan: Scan) => ({
    listed: scan.buckets.reduce((n, b) => n + b.listed, 0),
    evaluated: scan.buckets.reduce((n, b) => n + b.evaluated, 0),
    buckets: scan.buckets.length,
    done: scan.buckets.filter((b) => b.state === 'completed' || b.state === 'incomplete').length,
  });
  if (stream.isTTY) {
    const bar = new SingleBar(
      {
        format: 'scanning [{bar}] {value}/{total} objects | buckets {done}/{buckets}',
        stream,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(1, 0, { done: 0, buckets: 0 });
    return {
      update(scan) {
        const t = totals(scan);
        bar.setTotal(Math.max(t.listed, 1));
        bar.update(t.evaluated, { done: t.done, buckets: t.buckets });
      },
      stop: () => bar.stop(),
    };
  }
  let last = '';
  return {
    update(scan) {
      const t = totals(scan);
      const line = `scan ${scan.id}: ${t.evaluated}/${t.listed} objects evaluated, ${t.done}/${t.buckets} buckets done`;
      if (line !== last) stream.write(`${line}\n`);
      last = line;
    },
    stop: () => undefined,
  };
}

/** Prints the outcome: JSON (`{"scan", "findings"}`) or the text summary and findings. */
export function printOutcome(outcome: ScanOutcome, json: boolean, out: NodeJS.WritableStream): void {
  if (json) {
    out.write(`${JSON.stringify({ scan: outcome.scan, findings: outcome.findings }, null, 2)}\n`);
    return;
  }
  out.write(`${renderSummary(outcome.scan, outcome.findings)}\n`);
  if (outcome.findings.length > 0) out.write(`\nFindings:\n${renderFindings(outcome.findings)}\n`);
}
