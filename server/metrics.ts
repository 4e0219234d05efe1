/**
 * Prometheus metrics. The API does not run scans, so scan metrics are read from the store when
 * scraped: each finished scan is observed once (durations, objects, outcome), and the findings and
 * queue gauges are counted afresh. HTTP metrics are observed as requests finish, by route pattern.
 */
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../core/store/store.js';
import type { SourceSchedule } from './deps.js';

/** The job states whose counts become `anpr_queue_jobs{state}`. */
const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;

export interface ApiMetrics {
  registry: Registry;
  /** Records one answered HTTP request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/**
 * A registry with the auditor's metrics. `store`, `queue` and `schedules` (when given) are read on
 * every scrape; a scrape fails (and /metrics answers 503) when one does not answer.
 */
export function createMetrics(opts: {
  store: Store;
  queue: Queue;
  schedules?: () => Promise<SourceSchedule[]>;
  defaultMetrics?: boolean;
}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'anpr_' });

  const scanDuration = new Histogram({
    name: 'anpr_scan_duration_seconds',
    help: 'Wall-clock duration of finished scans, by final status',
    labelNames: ['status'],
    buckets: [1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600, 86400],
    registers: [registry],
    collect: () => syncScans(),
  });
  const scansFinished = new Counter({
    name: 'anpr_scans_finished_total',
    help: 'Scans finished, by final status (incomplete and failed are the ones to alert on)',
    labelNames: ['status'],
    registers: [registry],
    collect: () => syncScans(),
  });
  const objectsScanned = new Counter({
    name: 'anpr_objects_scanned_total',
    help: 'Objects evaluated by finished scans',
    registers: [registry],
    collect: () => syncScans(),
  });

  // Scans finished after this position have not been observed yet; only this process counts.
  let after: { finishedAt: Date; id: string } | null = null;
  let syncing: Promise<void> | null = null;
  // The three scan metrics' collects share one sync, so a scrape reads the store once for all.
  const syncScans = (): Promise<void> => {
    syncing ??= (async () => {
      try {
        for (;;) {
          const batch = await opts.store.scansFinishedAfter(after, 1000);
          for (const scan of batch) {
            const seconds = Math.max(0, (scan.finishedAt.getTime() - scan.startedAt.getTime()) / 1000);
            scanDuration.observe({ status: scan.status }, seconds);
            scansFinished.inc({ status: scan.status });
            objectsScanned.inc(scan.objectsEvaluated);
            after = { finishedAt: scan.finishedAt, id: scan.id };
          }
          if (batch.length < 1000) break;
        }
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  };

  new Gauge({
    name: 'anpr_findings',
    help: 'Findings not remediated, by rule, severity, status and whether a suppression rule matched',
    labelNames: ['rule', 'severity', 'status', 'suppressed'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await opts.store.countFindings()) {
        this.set(
          { rule: c.rule, severity: c.severity, status: c.status, suppressed: String(c.suppressed) },
          c.count,
        );
      }
    },
  });
  new Gauge({
    name: 'anpr_queue_jobs',
    help: 'Jobs in the scan queue by state; failed counts jobs that failed for good',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await opts.queue.getJobCounts(...JOB_STATES);
      for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  if (opts.schedules) {
    const schedules = opts.schedules;
    new Gauge({
      name: 'anpr_schedule_next_run_timestamp_seconds',
      help:
        'Next run of each scheduled source (Unix time); 0 when none is to come. Alert on 0, or on a ' +
        'time long past (runs overdue: no worker takes them)',
      labelNames: ['source'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await schedules()) {
          if (s.every === null && s.cron === null) continue;
          this.set({ source: s.sourceId }, s.nextRun === null ? 0 : Date.parse(s.nextRun) / 1000);
        }
      },
    });
  }

  const httpRequests = new Counter({
    name: 'anpr_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'anpr_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
  };
}
