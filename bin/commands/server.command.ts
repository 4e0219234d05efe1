/**
 * `anpr-audit server` (the API alone) and `anpr-audit serve` (API, scan workers and the scheduler in
 * one process: `npm start`). Composition only: the app is server/, the workers are workers/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Config } from '../../config/load.js';
import { createLogger, type Logger } from '../../core/log.js';
import { loadConfigOrReport } from './load-config.js';
import { openRuntime, type Runtime } from '../../core/runtime.js';
import { reasonOf, StartupError } from '../../core/startup-errors.js';
import type { Store } from '../../core/store/store.js';
import { createApp } from '../../server/app.js';
import { gracefulShutdown, httpServerStep, type ShutdownStep } from '../../server/shutdown.js';
import { startScanWorkers, type ScanWorkers } from '../../workers/scan-workers.js';
import { startScheduleRepairs, type ScheduleRepairs } from '../../workers/schedule-repairs.js';
import { listSchedules, syncSchedules } from '../../workers/schedules.js';

export interface ServerOptions {
  /** Run scan workers and sync the schedulers in this process too. */
  workers: boolean;
  concurrency?: number;
  host?: string;
  port?: number;
  logger?: Logger;
  /** Queue prefix and store to use instead of the config's (tests). */
  runtime?: { prefix?: string; store?: Store };
}

/** A running API process. */
export interface RunningServer {
  url: string;
  server: Server;
  runtime: Runtime;
  workers: ScanWorkers | null;
  /** Graceful shutdown (see server/shutdown.ts); resolves whether it was clean. */
  stop(timeoutMs?: number): Promise<boolean>;
}

/** Listens, or throws a StartupError naming the address (taken, not this host's, unknown). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(
        new StartupError(`the API cannot listen on ${host}:${port} (${reasonOf(error)})`, { cause: error }),
      );
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

/**
 * Opens the runtime, builds the app and listens, then starts workers (with `workers`): an address
 * that cannot be listened on stops the process before any scan starts.
 */
export async function startServer(config: Config, opts: ServerOptions): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger();
  const runtime = await openRuntime(config, opts.runtime ?? {});
  let workers: ScanWorkers | null = null;
  let repairs: ScheduleRepairs | null = null;
  let http: Server | null = null;
  try {
    const app = createApp({
      config,
      store: runtime.store,
      queue: runtime.queue,
      redis: runtime.redis,
      flows: runtime.flows,
      logger,
      schedules: () => listSchedules(runtime.queue, config),
    });
    const host = opts.host ?? config.api.host;
    http = createServer(app);
    await listen(http, opts.port ?? config.api.port, host);
    if (opts.workers) {
      workers = await startScanWorkers(runtime, { concurrency: opts.concurrency ?? 4, logger });
      const changes = await syncSchedules(runtime.queue, runtime.redis, config);
      logger.info(changes, 'schedules synced');
      repairs = startScheduleRepairs(runtime, config, logger);
    }
    const { port } = http.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    logger.info(
      { url, workers: opts.workers, store: runtime.store.kind, tokens: config.api.tokens.length },
      'API listening',
    );
    if (config.api.tokens.length === 0) {
      logger.warn('no API tokens configured: every route but health, readiness and docs answers 401');
    }
    const owned = workers;
    const ownedRepairs = repairs;
    const server = http;
    return {
      url,
      server,
      runtime,
      workers,
      stop: (timeoutMs = config.api.shutdownTimeoutSeconds * 1000) => {
        const steps: ShutdownStep[] = [httpServerStep(server)];
        if (ownedRepairs) steps.push({ name: 'schedule repairs', close: () => ownedRepairs.stop() });
        if (owned) {
          steps.push({
            name: 'scan workers',
            close: () => owned.close(),
            force: async () => owned.abandon(),
          });
        }
        steps.push({ name: 'store and queue', close: () => runtime.close(), minMs: 5000 });
        return gracefulShutdown(steps, timeoutMs, logger);
      },
    };
  } catch (error) {
    await repairs?.stop();
    await workers?.close();
    if (http?.listening) await new Promise((resolve) => http!.close(resolve));
    await runtime.close();
    throw error;
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function untilSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: string) => {
      logger.info({ signal }, 'stopping: finishing requests and jobs in flight');
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      resolve(signal);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
}

function parseServerArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw Object.assign(new Error('--port: must be a whole number from 0 to 65535'), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    });
  }
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw Object.assign(new Error('--concurrency: must be a positive integer'), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    });
  }
  return { config: values.config, host: values.host, port, concurrency };
}

async function run(args: string[], workers: boolean): Promise<number> {
  const options = parseServerArgs(args);
  const config = loadConfigOrReport(options.config);
  if (!config) return 2;
  const logger = createLogger();
  const running = await startServer(config, { ...options, workers, logger });
  await untilSignal(logger);
  const clean = await running.stop();
  logger.info({ clean }, 'stopped');
  return 0;
}

/** `anpr-audit server [--config FILE] [--host H] [--port N]`: the API only. */
export function serverCommand(args: string[]): Promise<number> {
  return run(args, false);
}

/** `anpr-audit serve [--config FILE] [--host H] [--port N] [--concurrency N]`: API, workers, scheduler. */
export function serveCommand(args: string[]): Promise<number> {
  return run(args, true);
}
