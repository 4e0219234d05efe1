/**
 * `anpr-audit schedules`: makes the queue's job schedulers match the config (as `serve` does at
 * start), then prints each source's schedule and next run.
 */
import { parseArgs } from 'node:util';
import { connectRedis, createScanQueue } from '../../core/queue/connection.js';
import { listSchedules, syncSchedules, type ScheduleView } from '../../workers/schedules.js';
import { loadConfigOrReport } from './load-config.js';

/** The schedules as a table, one line per source. */
export function renderSchedules(views: readonly ScheduleView[]): string {
  const rows = views.map((v) => [
    v.sourceId,
    v.every ? `every ${v.every}` : v.cron ? `cron ${v.cron}` : 'none',
    v.timezone ?? '',
    v.nextRun ?? (v.every || v.cron ? 'not scheduled' : ''),
  ]);
  const header = ['SOURCE', 'SCHEDULE', 'TIMEZONE', 'NEXT RUN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `anpr-audit schedules [--config FILE] [--json] [--no-sync]`. */
export async function schedulesCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-sync': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const config = loadConfigOrReport(values.config);
  if (!config) return 2;
  const redis = await connectRedis(config.redis.url);
  const queue = createScanQueue({ url: config.redis.url, prefix: config.redis.prefix }, redis);
  try {
    if (!values['no-sync']) {
      const changes = await syncSchedules(queue, redis, config);
      if (!values.json && changes.removed.length > 0) {
        process.stderr.write(
          `removed schedules of sources no longer configured: ${changes.removed.join(', ')}\n`,
        );
      }
      if (!values.json && changes.repaired.length > 0) {
        process.stderr.write(
          `schedules that had no next run, running again: ${changes.repaired.join(', ')}\n`,
        );
      }
    }
    const views = await listSchedules(queue, config);
    process.stdout.write(values.json ? `${JSON.stringify(views, null, 2)}\n` : `${renderSchedules(views)}\n`);
    return 0;
  } finally {
    await queue.close();
    await redis.quit().catch(() => undefined);
  }
}
