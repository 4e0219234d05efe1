/**
 * The `anpr-audit` command line. Thin: parses arguments, loads the config once (exit 2 on any
 * problem, before anything starts), and hands over to a command.
 */
import { constants as osConstants } from 'node:os';
import { parseArgs } from 'node:util';
import type { Config } from '../config/load.js';
import { loadConfigOrReport } from './commands/load-config.js';
import { tokenCommand } from './commands/token.command.js';
import { createLogger } from '../core/log.js';
import { openRuntime } from '../core/runtime.js';
import { StartupError } from '../core/startup-errors.js';
import { EXIT, printOutcome, progressReporter, runScan } from './commands/scan.command.js';
import { schedulesCommand } from './commands/schedules.command.js';
import { serveCommand, serverCommand } from './commands/server.command.js';
import { startScanWorkers } from '../workers/scan-workers.js';
import { startScheduleRepairs } from '../workers/schedule-repairs.js';
import { gracefulShutdown } from '../server/shutdown.js';

const USAGE = `Usage:
  anpr-audit scan      [--config FILE] [--source ID]... [--json] [--now ISO-8601]
  anpr-audit worker    [--config FILE] [--concurrency N]     scan workers only
  anpr-audit server    [--config FILE] [--host H] [--port P] the API only
  anpr-audit serve     [--config FILE] [--host H] [--port P] API + workers + scheduler
  anpr-audit schedules [--config FILE] [--json] [--no-sync] sync the schedulers, show each next run
  anpr-audit token     --name NAME --role admin|officer|viewer   a new API token and its config entry

Exit codes of scan: 0 complete, no findings; 1 complete with findings; 2 usage or config error;
3 incomplete (something could not be read: never reported as compliant); 4 could not start (Redis or
the database does not answer, or the embedded store is in use by another process).`;

class UsageError extends Error {}

function loadOrExit(path: string | undefined): Config {
  const config = loadConfigOrReport(path);
  if (config === null) process.exit(EXIT.usage);
  return config;
}

function parseNow(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // An offset or Z is required: a clock without a zone is exactly the ambiguity this tool exists to avoid.
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw new UsageError(
      `--now: must be an ISO-8601 instant with Z or an offset, e.g. 2026-11-20T12:00:00Z (got "${value}")`,
    );
  }
  return new Date(value);
}

async function scanCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      source: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      now: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const now = parseNow(values.now);
  const config = loadOrExit(values.config);
  const known = config.sources.map((s) => s.id);
  // `--source a --source a` scans a once.
  const sources = [...new Set(values.source ?? known)];
  const unknown = sources.filter((s) => !known.includes(s));
  if (unknown.length > 0)
    throw new UsageError(`--source: unknown source ${unknown.join(', ')} (configured: ${known.join(', ')})`);

  const runtime = await openRuntime(config);
  const progress = progressReporter(process.stderr);
  // Ctrl-C or SIGTERM stops: it cancels the scan (which then ends `cancelled`, exit 3) or, once the
  // scan has ended, stops waiting for other scans' jobs; a second one quits at once (128 + signal).
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(128 + (osConstants.signals[signal] ?? 0));
    progress.stop();
    process.stderr.write(`\n${signal}: stopping (again to quit at once)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runScan(runtime, {
      sources,
      now,
      onProgress: (scan) => progress.update(scan),
      signal: abort.signal,
    });
    progress.stop();
    printOutcome(outcome, values.json, process.stdout);
    return outcome.exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runtime.close();
  }
}

async function workerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, concurrency: { type: 'string', default: '4' } },
    strict: true,
  });
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError('--concurrency: must be a positive integer');
  const config = loadOrExit(values.config);
  const logger = createLogger();
  const runtime = await openRuntime(config);
  const workers = await startScanWorkers(runtime, { concurrency, logger });
  // Repairs only (same timing as this config): a worker never adds, changes or removes schedules,
  // which is the sync's job (`serve`, `anpr-audit schedules`).
  const repairs = startScheduleRepairs(runtime, config, logger);
  logger.info(
    { concurrency, prefix: runtime.queueSettings.prefix, store: runtime.store.kind },
    'scan worker started',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping: finishing in-flight jobs');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // A bucket job may run for hours: past the time budget its jobs are abandoned, and another worker
  // takes them over from their last checkpoint once their locks lapse.
  await gracefulShutdown(
    [
      { name: 'schedule repairs', close: () => repairs.stop() },
      { name: 'scan workers', close: () => workers.close(), force: async () => workers.abandon() },
      { name: 'store and queue', close: () => runtime.close(), minMs: 5000 },
    ],
    config.queue.shutdownTimeoutSeconds * 1000,
    logger,
  );
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  scan: scanCommand,
  worker: workerCommand,
  server: serverCommand,
  serve: serveCommand,
  schedules: schedulesCommand,
  token: tokenCommand,
};

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? EXIT.usage : 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`usage error: ${(error as Error).message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    if (error instanceof StartupError) {
      process.stderr.write(`anpr-audit: ${error.message}\n`);
      return EXIT.unavailable;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`anpr-audit: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.incomplete);
  },
);
