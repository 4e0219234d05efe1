/**
 * `anpr-audit serve` composed as the CLI composes it: API, workers and the scheduler in one process,
 * schedules synced at start, and a graceful stop that lets a request in flight finish.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { renderSchedules } from '../../../bin/commands/schedules.command.js';
import { startServer, type RunningServer } from '../../../bin/commands/server.command.js';
import { createLogger } from '../../../core/log.js';
import { createRedis } from '../../../core/queue/connection.js';
import type { Store } from '../../../core/store/store.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { listSchedules } from '../../../workers/schedules.js';
import { stallSchedule } from '../../helpers/stalled-schedule.js';
import { DEFAULT_SOURCES, testConfig } from './harness.js';

describe('anpr-audit serve', function () {
  this.timeout(60_000);
  let t: TestStore;
  let running: RunningServer | undefined;
  const prefix = `test-serve-${randomUUID()}`;
  const lines: string[] = [];
  // A cron schedule far ahead: an `every` scheduler fires at once, and its scan would keep the
  // workers busy against an endpoint nobody listens on.
  const { config, tokens } = testConfig({
    sources: DEFAULT_SOURCES.map((s) => (s.id === 'edge-a' ? { ...s, schedule: { cron: '0 3 1 1 *' } } : s)),
  });

  before(async () => {
    t = await openTestStore('postgres');
    const slow: Store = {
      ...t.store,
      listSuppressions: async (opts) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return t.store.listSuppressions(opts);
      },
    };
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    running = await startServer(config, {
      workers: true,
      port: 0,
      host: '127.0.0.1',
      logger,
      runtime: { prefix, store: slow },
    });
  });

  after(async () => {
    if (running?.server.listening) await running.stop(5000);
    const redis = createRedis(config.redis.url);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await t?.cleanup();
  });

  it('serves the API with the schedules synced into the queue', async () => {
    const res = await fetch(`${running!.url}/api/v1/sources`, {
      headers: { authorization: `Bearer ${tokens.admin}` },
    });
    const body = (await res.json()) as { items: Array<{ id: string; schedule: { nextRun: string | null } }> };
    const edge = body.items.find((s) => s.id === 'edge-a')!;
    expect(edge.schedule.nextRun).to.be.a('string');
    expect(body.items.find((s) => s.id === 'vendor-b')!.schedule.nextRun).to.equal(null);
    expect(lines.join('')).to.include('"msg":"schedules synced"');
    expect(running!.workers).to.not.equal(null);
  });

  it("exports each scheduled source's next run as a metric, 0 once none is to come", async () => {
    const get = async (path: string, token: string) =>
      fetch(`${running!.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const sources = (await (await get('/api/v1/sources', tokens.admin)).json()) as {
      items: Array<{ id: string; schedule: { nextRun: string | null } }>;
    };
    const nextRun = sources.items.find((s) => s.id === 'edge-a')!.schedule.nextRun!;
    const metric = async () => {
      const text = await (await get('/metrics', tokens.viewer)).text();
      return text.split('\n').filter((line) => line.startsWith('anpr_schedule_next_run_timestamp_seconds{'));
    };
    expect(await metric()).to.deep.equal([
      `anpr_schedule_next_run_timestamp_seconds{source="edge-a"} ${Date.parse(nextRun) / 1000}`,
    ]);
    // The scheduler left recording a run of a minute ago that is not in the queue (as a failed add of
    // its next run leaves it once the finished run is cleaned away): no run is to come.
    const redis = createRedis(config.redis.url);
    try {
      await stallSchedule(running!.runtime.queue, redis, prefix, 'schedule-edge-a', Date.now() - 60_000);
    } finally {
      await redis.quit();
    }
    expect(await metric()).to.deep.equal(['anpr_schedule_next_run_timestamp_seconds{source="edge-a"} 0']);
  });

  it('gives a schedule left with no run to come its next run again, without a restart', async () => {
    const repairPrefix = `${prefix}-repair`;
    const logged: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const quick = { ...config, queue: { ...config.queue, scheduleRepairSeconds: 0.2 } };
    const other = await startServer(quick, {
      workers: true,
      port: 0,
      host: '127.0.0.1',
      logger,
      runtime: { prefix: repairPrefix, store: t.store },
    });
    const redis = createRedis(config.redis.url);
    try {
      const nextRun = async () => (await listSchedules(other.runtime.queue, config))[0]!.nextRun;
      const planned = await nextRun();
      expect(planned).to.be.a('string');
      // As a worker that failed to add the next run leaves the scheduler, once its finished run is
      // cleaned away: recording a run of a minute ago, with nothing after it in the queue.
      await stallSchedule(other.runtime.queue, redis, repairPrefix, 'schedule-edge-a', Date.now() - 60_000);
      const deadline = Date.now() + 10_000;
      // The log line comes after the lock's release (and, from a child process, through a pipe).
      const repairLogged = () => logged.join('').includes('schedules had no run to come');
      while (((await nextRun()) === null || !repairLogged()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await nextRun(), 'the run after the last one, as planned').to.equal(planned);
      expect(logged.join('')).to.include('schedules had no run to come');
    } finally {
      await other.stop(5000);
      const keys = await redis.keys(`${repairPrefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('stops gracefully: the request in flight finishes, then nothing is accepted', async () => {
    const inFlight = fetch(`${running!.url}/api/v1/suppressions`, {
      headers: { authorization: `Bearer ${tokens.officer}` },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = running!.stop(10_000);
    const res = await inFlight;
    expect(res.status).to.equal(200);
    expect(await stopped).to.equal(true);
    expect(running!.server.listening).to.equal(false);
    const refused = await fetch(`${running!.url}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).to.equal('refused');
  });

  it('renders schedules as a table', () => {
    const table = renderSchedules([
      { sourceId: 'edge-a', every: '1h', cron: null, timezone: null, nextRun: '2026-11-20T10:00:00.000Z' },
      { sourceId: 'vendor-b', every: null, cron: '0 3 * * *', timezone: 'Europe/Amsterdam', nextRun: null },
      { sourceId: 'vendor-c', every: null, cron: null, timezone: null, nextRun: null },
    ]);
    expect(table.split('\n')).to.deep.equal([
      'SOURCE    SCHEDULE        TIMEZONE          NEXT RUN',
      'edge-a    every 1h                          2026-11-20T10:00:00.000Z',
      'vendor-b  cron 0 3 * * *  Europe/Amsterdam  not scheduled',
      'vendor-c  none',
    ]);
  });
});
